"""The retraining task: MNIST plus user feedback, gated publish, live progress events.

It runs on the `training` queue, which one trainer consumes with concurrency 1. It is acked
on receipt (not late): a multi-minute job must not be redelivered by the broker's visibility
timeout, and a killed run has published nothing, so the active model stays untouched.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from celery import current_app, shared_task

from shared import events
from shared import train_jobs as jobs
from shared.celery_app import RETRAIN_TASK, app_settings
from shared.feedback import read_feedback
from shared.model_store import ModelStore
from shared.redis_conn import redis_client

log = logging.getLogger(__name__)


@shared_task(name=RETRAIN_TASK, acks_late=False)
def retrain(job_id: str, epochs: int | None = None) -> dict[str, Any]:
    """Train, evaluate, publish (gated) and announce; progress goes to the job's room."""
    from trainer.training import publish_with_gate, train_model

    settings = app_settings(current_app)
    r = redis_client(settings.redis_url)
    digits, labels = read_feedback(r, settings.feedback_cap)
    jobs.save_job(r, job_id, status="running", progress=0.0, n_feedback=int(len(labels)))
    log.info("training job %s: %d feedback drawings", job_id, len(labels))

    def on_epoch(epoch: int, total: int, metrics: dict[str, float]) -> None:
        job = jobs.load_job(r, job_id) or {}
        history = [*job.get("history", []), {"epoch": epoch, **metrics}]
        jobs.save_job(r, job_id, progress=epoch / total, metrics=metrics, history=history,
                      epoch=epoch, epochs=total)
        jobs.refresh_lock(r, job_id, settings.train_lock_ttl_s)
        events.emit(settings.redis_url, "train_progress",
                    {"job_id": job_id, "epoch": epoch, "epochs": total, "metrics": metrics,
                     "status": "running"}, to=job_id)

    try:
        with tempfile.TemporaryDirectory(prefix="digitflow-train-") as workdir:
            result = train_model(settings.mnist_dir, epochs=epochs, limit=settings.train_limit,
                                 extra=(digits, labels), on_epoch=on_epoch, progress=False,
                                 workdir=Path(workdir))
            store = ModelStore(settings.model_store)
            version, status, reason = publish_with_gate(store, result, policy="gate")
        if status == "active":
            events.announce_activation(settings.redis_url, version)
        final = {"status": "done" if status != "rejected" else "rejected", "version": version,
                 "progress": 1.0, "test_accuracy": result.test_accuracy, "message": reason}
        jobs.save_job(r, job_id, **final)
        log.info("training job %s finished: version %s %s", job_id, version, status)
    except Exception as exc:
        log.exception("training job %s failed", job_id)
        final = {"status": "failed", "version": None, "message": str(exc)}
        jobs.save_job(r, job_id, **final)
    finally:
        jobs.release_lock(r, job_id)
    events.emit(settings.redis_url, "train_progress", {"job_id": job_id, **final}, to=job_id)
    return final
