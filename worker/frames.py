"""Live frames served straight off their Redis list, many at a time, without Celery's
per-message machinery.

Why: a live frame's own work in the worker (decode, preprocessing, a one-row forward pass,
the answer) is ~2.3 ms of CPU on this machine kind, yet the worker spent ~6 ms per frame at 10
drawers. py-spy (`--gil`, `bench/live.py --clients 10`) put three quarters of the worker's
Python time in Celery and kombu: the BRPOP re-registered after every message, the message
decoded into a Request, the hand-off to a pool thread and the task tracer.

The web still queues every frame as a Celery task message (webapp/frame_publisher.py), on
its own queue, `frames`, so any Celery worker can run it (`celery worker -Q frames`). A
`digitflow worker` that serves `live` pops that list itself instead: FRAME_CONSUMERS threads,
each taking whatever waits (up to MAX_FRAMES) in one round trip. It checks each message as
Celery would (task name, arguments, `expires`) and classifies the plain frames in one
micro-batcher request, so frames that wait together share one forward pass. Frames asking for
saliency or a shadow version go through the task's own path, one by one.

Like the `live` queue before it, `frames` is consumed without acknowledgement: a frame lost in
a crash is re-sent by the page when its in-flight timeout passes, and one left from before a
restart is dropped by its expiry, never computed late.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis

from shared.celery_app import CLASSIFY_FRAME_TASK, FRAMES_QUEUE
from shared.saliency import EXPLAIN_FIELD
from shared.shadow_wire import SHADOW_FIELD
from worker.metrics import ERRORS

log = logging.getLogger(__name__)

FRAME_CONSUMERS = 2  # one prepares its frames while the other's forward pass runs
MAX_FRAMES = 32  # frames one take pops: one forward pass of 32 rows is ~4 ms here
BRPOP_TIMEOUT_S = 1
RETRY_MAX_S = 1.0  # the longest wait between tries while Redis is away
TASK_PARAMS = ("sid", "seq", "item", "sent_at")  # classify_frame's, in order
FAILED = "the worker failed on this frame"


class BadFrame(ValueError):
    """A message on the frames queue that is not a well-formed classify_frame task."""


@dataclass(frozen=True)
class Frame:
    sid: str
    seq: int
    item: Any


def decode_frame(raw: bytes | str, now: float) -> Frame | None:
    """A message from the frames list -> its Frame, or None when it has expired.

    The message is kombu's Redis envelope around a Celery protocol-2 task message; nothing on
    the queue is trusted, so anything else raises BadFrame.
    """
    try:
        envelope = json.loads(raw)
        headers = envelope["headers"]
        body: str | bytes = envelope["body"]
        if envelope["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body, validate=True)
        args, kwargs, _embed = json.loads(body)
        task, expires = headers.get("task"), headers.get("expires")
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error) as exc:
        raise BadFrame(f"not a task message: {exc!r}") from None
    if task != CLASSIFY_FRAME_TASK:
        raise BadFrame(f"task {task!r} on the frames queue")
    if expires is not None:
        try:
            if datetime.fromisoformat(expires).timestamp() < now:
                return None
        except (TypeError, ValueError):
            raise BadFrame(f"bad expiry {expires!r}") from None
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise BadFrame("arguments are not a list and a dict")
    if len(args) > len(TASK_PARAMS) or set(kwargs) - set(TASK_PARAMS[len(args):]):
        raise BadFrame("arguments do not match classify_frame(sid, seq, item, sent_at)")
    given = dict(zip(TASK_PARAMS, args, strict=False)) | kwargs
    sid, seq = given.get("sid"), given.get("seq")
    if not isinstance(sid, str) or not isinstance(seq, int) or isinstance(seq, bool):
        raise BadFrame("a frame needs a string sid and an integer seq")
    if "item" not in given:
        raise BadFrame("a frame without its item")
    return Frame(sid, seq, given["item"])


def batchable(item: Any) -> bool:
    """Plain frames share one request; saliency and shadow frames take the task's own path."""
    return not (isinstance(item, dict) and (EXPLAIN_FIELD in item or SHADOW_FIELD in item))


Answer = Callable[[str, int, dict[str, Any]], None]


def serve_frames(frames: list[Frame],
                 classify_many: Callable[[list[Any]], list[dict[str, Any]]],
                 classify_one: Callable[[Any], dict[str, Any]],
                 answer: Answer) -> None:
    """Answer every frame: the batchable ones from one `classify_many` call, the rest one by
    one. If the shared call fails, each of its frames is tried alone, so one frame that breaks
    the worker costs its own answer only; a frame that fails alone is answered with an error,
    which also releases its client's frame gate at once."""
    together = [f for f in frames if batchable(f.item)]
    alone = [f for f in frames if not batchable(f.item)]
    if together:
        try:
            results = classify_many([f.item for f in together])
        except Exception:
            log.exception("%d frames failed together; trying each alone", len(together))
            alone = together + alone
        else:
            for frame, result in zip(together, results, strict=True):
                _answer(answer, frame, result)
    for frame in alone:
        try:
            result = classify_one(frame.item)
        except Exception:
            log.exception("frame seq=%s from %s failed", frame.seq, frame.sid)
            ERRORS.labels("task").inc()
            result = {"error": FAILED}
        _answer(answer, frame, result)


def _answer(answer: Answer, frame: Frame, result: dict[str, Any]) -> None:
    """One answer that cannot be sent (Redis away) costs that answer only."""
    try:
        answer(frame.sid, frame.seq, result)
    except Exception:
        log.exception("could not answer frame seq=%s of %s", frame.seq, frame.sid)


def take_frames(r: redis.Redis, queue: str = FRAMES_QUEUE, most: int = MAX_FRAMES,
                timeout: float = BRPOP_TIMEOUT_S) -> list[bytes]:
    """The oldest waiting messages, up to `most`, oldest first ([] after `timeout` s with
    none), in ONE round trip: BRPOP and `RPOP queue most-1` pipelined, so Redis runs the RPOP
    as soon as the BRPOP is served. (A Redis older than 6.2 has no RPOP count: it refuses the
    second command, and the take is the BRPOP's one message.)"""
    pipe = r.pipeline(transaction=False)
    pipe.brpop([queue], timeout=timeout)
    if most > 1:
        pipe.rpop(queue, most - 1)
    popped, *rest = pipe.execute(raise_on_error=False)
    if isinstance(popped, Exception):
        raise popped
    taken = [] if popped is None else [popped[1]]
    if rest and isinstance(rest[0], list):
        taken += rest[0]  # RPOP pops the oldest first: already in order
    return taken


class FrameConsumer:
    """FRAME_CONSUMERS daemon threads popping the frames list and serving what they pop."""

    def __init__(self, r: redis.Redis, serve: Callable[[list[Frame]], None],
                 queue: str = FRAMES_QUEUE, most: int = MAX_FRAMES) -> None:
        self._redis = r
        self._serve = serve
        self._queue = queue
        self._most = most
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.expired = 0  # frames dropped for their expiry (logged; tests read it)

    def start(self, threads: int = FRAME_CONSUMERS) -> None:
        for i in range(threads):
            thread = threading.Thread(target=self._loop, name=f"frames-{i + 1}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("serving the %r queue: %d consumer threads, up to %d frames a pass",
                 self._queue, threads, self._most)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def _loop(self) -> None:
        wait = 0.0
        while not self._stop.is_set():
            try:
                raws = take_frames(self._redis, self._queue, self._most)
            except redis.RedisError as exc:  # Redis restarting: try again soon, never die
                wait = min(RETRY_MAX_S, wait * 2 or 0.1)
                log.warning("frames queue unreachable (%s); retrying in %.1f s", exc, wait)
                self._stop.wait(wait)
                continue
            if wait:
                log.info("frames queue reachable again")
                wait = 0.0
            if raws:
                self._handle(raws)

    def _handle(self, raws: list[bytes]) -> None:
        now, frames, expired = time.time(), [], 0
        for raw in raws:
            try:
                frame = decode_frame(raw, now)
            except BadFrame as exc:
                log.warning("dropped a message from the %r queue: %s", self._queue, exc)
                ERRORS.labels("invalid_input").inc()
                continue
            if frame is None:
                expired += 1
            else:
                frames.append(frame)
        if expired:
            self.expired += expired
            log.info("dropped %d expired frames (queued longer than their expiry)", expired)
        if not frames:
            return
        try:
            self._serve(frames)
        except Exception:  # a bug in serving must not stop this thread
            log.exception("serving %d frames failed", len(frames))
            ERRORS.labels("task").inc()


def start_frame_consumer(url: str) -> FrameConsumer:
    """The worker's consumer, serving frames through worker.tasks' classification paths, on
    its own connections: a socket timeout (a silent Redis is noticed) longer than the BRPOP."""
    from shared.celery_app import REDIS_SOCKET_CONNECT_TIMEOUT_S, REDIS_SOCKET_TIMEOUT_S
    from worker.tasks import answer_frame, classify_one_live, classify_wire_items

    r = redis.Redis.from_url(url, socket_timeout=REDIS_SOCKET_TIMEOUT_S,
                             socket_connect_timeout=REDIS_SOCKET_CONNECT_TIMEOUT_S,
                             socket_keepalive=True)

    def serve(frames: list[Frame]) -> None:
        serve_frames(frames,
                     lambda items: classify_wire_items(items, with_image=True, live=True),
                     lambda item: classify_one_live(item, with_image=True),
                     answer_frame)

    consumer = FrameConsumer(r, serve)
    consumer.start()
    return consumer
