"""Every Redis key and channel digitflow uses, named in one place."""

from __future__ import annotations

PREFIX = "digitflow"
ACTIVATION_CHANNEL = f"{PREFIX}:model_activated"
COALESCED_COUNTER = f"{PREFIX}:stats:coalesced"
FEEDBACK_LIST = f"{PREFIX}:feedback"
TRAIN_LOCK = f"{PREFIX}:train:lock"
ACTIVE_BATCHES = f"{PREFIX}:batches:active"
WORKER_TTL_S = 10


def latest_seq(sid: str) -> str:
    """The newest `draw` seq a client sent; older frames of that client are stale."""
    return f"{PREFIX}:seq:{sid}"


def worker_heartbeat(hostname: str) -> str:
    """A worker's liveness record (expires unless refreshed), read by /healthz."""
    return f"{PREFIX}:worker:{hostname}"


def batch_meta(batch_id: str) -> str:
    return f"{PREFIX}:batch:{batch_id}"


def batch_results(batch_id: str) -> str:
    return f"{PREFIX}:batch:{batch_id}:results"


def batch_chunks(batch_id: str) -> str:
    """Payloads of the chunks not yet done (kept so a lost task can be re-sent)."""
    return f"{PREFIX}:batch:{batch_id}:chunks"


def batch_pending(batch_id: str) -> str:
    """When each unfinished chunk was last queued."""
    return f"{PREFIX}:batch:{batch_id}:pending"


def train_job(job_id: str) -> str:
    return f"{PREFIX}:train:{job_id}"
