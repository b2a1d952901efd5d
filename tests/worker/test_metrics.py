"""A worker's Prometheus series: served on its own port, fed by the micro-batcher and tasks."""

from __future__ import annotations

import numpy as np
import pytest
import requests
from prometheus_client import REGISTRY

from cli.embedded_redis import free_port
from shared.wire import checked
from tests.utils.prometheus_text import sample_names
from worker.batcher import MicroBatcher
from worker.metrics import SERIES, start_metrics
from worker.tasks import prepare


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def fake_model(digits: np.ndarray) -> tuple[np.ndarray, int]:
    """Stands where the CNN does: the batcher's metrics are under test, not the model."""
    return np.full((len(digits), 10), 0.1), 7


def test_the_metrics_port_serves_every_series() -> None:
    port = free_port()
    assert start_metrics("127.0.0.1", port, lambda: 7)
    body = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    assert [s for s in SERIES if s not in sample_names(body)] == []
    assert "digitflow_worker_model_version 7.0" in body


def test_port_zero_serves_nothing() -> None:
    assert not start_metrics("127.0.0.1", 0, lambda: None)
    assert value("digitflow_worker_model_version") == -1


def test_a_forward_pass_counts_rows_and_batch_size() -> None:
    passes = value("digitflow_worker_forward_passes_total")
    items = value("digitflow_worker_items_total")
    sizes = value("digitflow_worker_batch_size_count")
    model = value("digitflow_worker_model_seconds_count")
    batcher = MicroBatcher(fake_model)
    batcher.classify(np.zeros((5, 28, 28), np.uint8))
    assert value("digitflow_worker_forward_passes_total") == passes + 1
    assert value("digitflow_worker_items_total") == items + 5
    assert value("digitflow_worker_batch_size_count") == sizes + 1
    assert value("digitflow_worker_model_seconds_count") == model + 1


def test_a_failed_pass_counts_an_error() -> None:
    def broken(digits: np.ndarray) -> tuple[np.ndarray, int]:
        raise RuntimeError("model exploded")

    before = value("digitflow_worker_errors_total", kind="forward_pass")
    with pytest.raises(RuntimeError):
        MicroBatcher(broken).classify(np.zeros((1, 28, 28), np.uint8))
    assert value("digitflow_worker_errors_total", kind="forward_pass") == before + 1


def test_preprocessing_is_timed() -> None:
    before = value("digitflow_worker_preprocess_seconds_count")
    prepare(checked({"pixels": [[0, 255] * 14] * 28}))
    assert value("digitflow_worker_preprocess_seconds_count") == before + 1
