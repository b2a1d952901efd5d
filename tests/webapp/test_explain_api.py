"""`"explain": true` end to end: the real web server, queue and worker answer with a map."""

from __future__ import annotations

import numpy as np
import pytest
import requests

from shared.mnist import load_mnist

pytestmark = pytest.mark.integration


def test_predict_with_explain_returns_a_saliency_map_on_the_ink(stack, mnist_dir) -> None:  # type: ignore[no-untyped-def]
    test = load_mnist("test", mnist_dir)
    digit = test.images[0]
    resp = requests.post(f"{stack.url}/api/predict",
                         json={"pixels": digit.tolist(), "explain": True}, timeout=30)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["digit"] == int(test.labels[0])
    sal = np.asarray(body["saliency"], np.float64)
    assert sal.shape == (28, 28) and sal.min() >= 0.0 and sal.max() == pytest.approx(1.0)
    # what mattered lies on or next to the ink, not in the empty border
    assert sal[digit > 0].mean() > sal[digit == 0].mean()
    plain = requests.post(f"{stack.url}/api/predict", json={"pixels": digit.tolist()},
                          timeout=30).json()
    assert "saliency" not in plain
    assert plain["probabilities"] == pytest.approx(body["probabilities"], abs=1e-6)
