"""Every Redis key and channel digitflow uses, named in one place."""

from __future__ import annotations

PREFIX = "digitflow"
ACTIVATION_CHANNEL = f"{PREFIX}:model_activated"
COALESCED_COUNTER = f"{PREFIX}:stats:coalesced"
FEEDBACK_LIST = f"{PREFIX}:feedback"
TRAIN_LOCK = f"{PREFIX}:train:lock"
ACTIVE_BATCHES = f"{PREFIX}:batches:active"
RATE_LIMITS = f"{PREFIX}:limits"  # Flask-Limiter's key prefix (webapp/limits.py)
SOCKET_RATE_LIMITS = f"{PREFIX}:limits:socket"  # its namespace for Socket.IO events
WORKER_TTL_S = 6  # a worker that stops answering pings leaves /healthz this long after
# Flask-SocketIO's default pub/sub channel: workers emit on it, every web process relays it.
SOCKETIO_CHANNEL = "flask-socketio"


def worker_heartbeat(hostname: str) -> str:
    """A worker's liveness record (expires unless refreshed), read by /healthz."""
    return f"{PREFIX}:worker:{hostname}"


def worker_heartbeat_pattern() -> str:
    """A SCAN pattern matching every worker's liveness record."""
    return worker_heartbeat("*")


def batch_meta(batch_id: str) -> str:
    """A batch's total, status and timestamps."""
    return f"{PREFIX}:batch:{batch_id}"


def batch_results(batch_id: str) -> str:
    """Results by item index (a hash, so re-written chunks overwrite, never duplicate)."""
    return f"{PREFIX}:batch:{batch_id}:results"


def batch_chunks(batch_id: str) -> str:
    """Payloads of the chunks not yet done (kept so a lost task can be re-sent)."""
    return f"{PREFIX}:batch:{batch_id}:chunks"


def batch_pending(batch_id: str) -> str:
    """When each unfinished chunk was last queued."""
    return f"{PREFIX}:batch:{batch_id}:pending"


def train_job(job_id: str) -> str:
    """A training job's status, progress and history (JSON)."""
    return f"{PREFIX}:train:{job_id}"
RECENT_BATCHES = f"{PREFIX}:recent:batches"  # newest batch ids first, capped (operator view)
RECENT_TRAIN_JOBS = f"{PREFIX}:recent:train_jobs"  # newest training job ids first, capped
RECENT_CAP = 20


def answer_latency_slot(slot: int) -> str:
    """Live answer latencies of one 5-second slot, as a histogram every web process adds to."""
    return f"{PREFIX}:ops:latency:{slot}"
