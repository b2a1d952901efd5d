"""The retraining task: fine-tune (default) or scratch, gated publish, live progress events.

It runs on the `training` queue, which one trainer consumes with concurrency 1. It is acked
on receipt (not late): a multi-minute job must not be redelivered by the broker's visibility
timeout, and a killed run has published nothing, so the active model stays untouched. (The
trainer runs a threads pool so that early ack reaches Redis at once: under the solo pool it
was only sent after the task, and a job longer than the visibility timeout ran twice.) Each
job is also claimed once (`claim_job`), so no delivery of it can train it a second time.
"""

from __future__ import annotations

import logging
import os
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


def _progress_hook(r: Any, job_id: str, redis_url: str, lock_ttl_s: int) -> Any:
    """Per-epoch: save the job's progress, keep the lock, tell the job's room."""
    def on_epoch(epoch: int, total: int, metrics: dict[str, float]) -> None:
        job = jobs.load_job(r, job_id) or {}
        history = [*job.get("history", []), {"epoch": epoch, **metrics}]
        jobs.save_job(r, job_id, progress=epoch / total, metrics=metrics, history=history,
                      epoch=epoch, epochs=total)
        jobs.refresh_lock(r, job_id, lock_ttl_s)
        events.emit(redis_url, "train_progress",
                    {"job_id": job_id, "epoch": epoch, "epochs": total, "metrics": metrics,
                     "status": "running"}, to=job_id)
    return on_epoch


@shared_task(name=RETRAIN_TASK, acks_late=False)
def retrain(job_id: str, epochs: int | None = None, mode: str = "finetune") -> dict[str, Any]:
    """Train in `mode`, evaluate on every set, publish through the gate and announce."""
    from trainer.data.sources import resolve_paths
    from trainer.jobs import run_training, with_epochs
    from trainer.publish import publish_with_gate
    from trainer.recipe import Recipe

    settings = app_settings(current_app)
    r = redis_client(settings.redis_url)
    taken = jobs.claim_job(r, job_id)
    if taken is not None:
        log.warning("training job %s delivered again (status %s): not training it twice",
                    job_id, taken)
        return {"status": taken, "duplicate": True}
    digits, labels = read_feedback(r, settings.feedback_cap)
    jobs.save_job(r, job_id, status="running", progress=0.0, mode=mode,
                  n_feedback=int(len(labels)))
    log.info("training job %s (%s): %d feedback drawings", job_id, mode, len(labels))
    try:
        paths = resolve_paths(settings.mnist_dir, os.environ)
        store = ModelStore(settings.model_store)
        with tempfile.TemporaryDirectory(prefix="digitflow-train-") as workdir:
            result = run_training(mode, paths, with_epochs(Recipe(), mode, epochs), store,
                                  Path(workdir), settings.model_cache, (digits, labels),
                                  settings.train_limit,
                                  _progress_hook(r, job_id, settings.redis_url,
                                                 settings.train_lock_ttl_s), False)
            version, status, reason = publish_with_gate(store, result, "gate",
                                                        settings.model_cache)
        if status == "active":
            events.announce_activation(settings.redis_url, version)
        final = {"status": "done" if status != "rejected" else "rejected", "version": version,
                 "progress": 1.0, "test_accuracy": result.test_accuracy, "message": reason,
                 "sets": result.meta.get("sets", {}), "seconds": round(result.seconds, 1)}
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
