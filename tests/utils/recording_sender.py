"""A task sender for in-process web tests: it records what the web app queues.

It stands where Celery's `send_task` does, so the routes run unchanged; no worker is behind
it, so a waiting `/api/predict` times out unless a test sets the answer a worker would give.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from celery.exceptions import TimeoutError as CeleryTimeout


@dataclass
class SentTask:
    """One task the app queued, and what it later did with the pending result."""

    name: str
    args: list[Any]
    options: dict[str, Any]
    revoked: bool = False
    forgotten: bool = False


class PendingResult:
    """The AsyncResult surface the web app uses: get, revoke, forget."""

    def __init__(self, sent: SentTask, answer: dict[str, Any] | None) -> None:
        self._sent, self._answer = sent, answer

    def get(self, timeout: float | None = None) -> dict[str, Any]:
        if self._answer is None:
            raise CeleryTimeout(f"no answer within {timeout}s")
        return dict(self._answer)

    def revoke(self) -> None:
        self._sent.revoked = True

    def forget(self) -> None:
        self._sent.forgotten = True


@dataclass
class RecordingSender:
    """Records every task; `answer` is what a worker would return (None: no worker)."""

    sent: list[SentTask] = field(default_factory=list)
    answer: dict[str, Any] | None = None

    def __call__(self, name: str, args: list[Any], **options: Any) -> PendingResult:
        task = SentTask(name, list(args), options)
        self.sent.append(task)
        return PendingResult(task, self.answer)

    def named(self, name: str) -> list[SentTask]:
        """The tasks sent under `name`, oldest first."""
        return [t for t in self.sent if t.name == name]
