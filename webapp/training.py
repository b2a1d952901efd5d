"""Retraining and model-version endpoints for the admin, and training-job status for all."""

from __future__ import annotations

import uuid

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import NotFound

from shared import train_jobs as jobs
from shared.celery_app import RETRAIN_TASK
from shared.preprocess import InvalidInput
from webapp.auth import require_admin
from webapp.requests_json import json_object
from webapp.services import redis_client, send, settings

bp = Blueprint("training", __name__)
MAX_EPOCHS = 50
TRAIN_MODES = ("finetune", "scratch")  # trainer.recipe.MODES; finetune is the default


@bp.post("/api/train")
def start():  # type: ignore[no-untyped-def]
    """Queue a retrain on the `training` queue; one job at a time (409 otherwise)."""
    require_admin()
    body = json_object({"epochs", "mode"}) if request.get_data() else {}
    epochs = body.get("epochs")
    mode = body.get("mode", "finetune")
    if mode not in TRAIN_MODES:
        raise InvalidInput('mode must be "finetune" or "scratch"')
    if epochs is not None and (not isinstance(epochs, int) or isinstance(epochs, bool)
                               or not 1 <= epochs <= MAX_EPOCHS):
        raise InvalidInput(f"epochs must be an integer from 1 to {MAX_EPOCHS}")
    r = redis_client()
    job_id = uuid.uuid4().hex
    holder = jobs.try_lock(r, job_id, settings().train_lock_ttl_s)
    if holder is not None:
        return jsonify(error="a training job is already running", job_id=holder), 409
    jobs.save_job(r, job_id, status="queued", progress=0.0, epochs=epochs, mode=mode,
                  metrics={}, version=None)
    send(RETRAIN_TASK, job_id, epochs, mode, ignore_result=True)
    return jsonify(job_id=job_id), 202


@bp.get("/api/train/<job_id>")
def status(job_id: str):  # type: ignore[no-untyped-def]
    """The job's status, progress, last metrics, per-epoch history and published version."""
    r = redis_client()
    job = jobs.load_job(r, job_id)
    if job is None:
        raise NotFound(f"no training job {job_id[:64]!r}")
    if job["status"] in jobs.UNFINISHED and jobs.lock_holder(r) != job_id:
        # The trainer saves its final status *before* it releases the lock, so a job that just
        # finished between the two reads above shows its final status on a second read; only
        # one still unfinished with the lock gone was lost with its trainer.
        job = jobs.load_job(r, job_id) or job
        if job["status"] in jobs.UNFINISHED:
            job.update(status="failed", message="the trainer stopped before finishing this job")
    return jsonify(job)
