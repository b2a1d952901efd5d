"""Letting the event loop breathe during long request work.

The web serves every websocket from one gevent loop. A batch upload's request greenlet reads
~50 MB, hands it to a reader child, reads as much back, stores ~150 chunks and queues as many
tasks; done in one go, each step blocked every live frame for its whole length (timed in
the web during `python bench/live.py --clients 1 --batch 20000`: 0.43 s reading a 54 MB body,
then 0.14 s storing and 0.29 s queueing 157 chunks). These helpers do such work in pieces with
a pause between them. Even one join or copy of a whole body costs tens of ms, so large bodies
travel as lists of pieces and are never joined here. The body is also read at a bounded rate,
so the sender waits on TCP flow control and the CPU of a 2-core machine stays with live work.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import IO

BODY_PIECE = 1 << 18  # bytes read between pauses: ~2 ms of work here
PIECE_PAUSE_S = 0.005  # at most ~50 MB/s: the sender waits on TCP, the CPU goes to live work
# between two steps of storing/queueing chunks or reading the reader child's payloads: not a
# bare yield, so Redis and the live worker get the CPU for a frame that arrived meanwhile
STEP_PAUSE_S = 0.002


def pause(seconds: float = 0.0) -> None:
    """Let other greenlets run: gevent patches `time.sleep`, and sleep(0) yields to its hub;
    in a threaded server it lets other threads take the GIL."""
    time.sleep(seconds)


def read_pieces(stream: IO[bytes], piece: int = BODY_PIECE) -> list[bytes]:
    """All of `stream` as the pieces read, `piece` bytes at a time with a pause after each.

    Never joined here: joining a 54 MB body held the event loop 61 ms (timed in the web during
    `python bench/live.py --clients 1 --batch 20000`), which a live frame then waited out."""
    parts = []
    while True:
        data = stream.read(piece)
        if not data:
            return parts
        parts.append(data)
        pause(PIECE_PAUSE_S)


def write_pieces(stream: IO[bytes], pieces: list[bytes]) -> None:
    """Write `pieces` one at a time, letting other greenlets run between them."""
    for data in pieces:
        stream.write(data)
        pause()


def in_steps(count: int, step: int) -> Iterator[range]:
    """range(count) in consecutive ranges of at most `step`, pausing between them."""
    for start in range(0, count, step):
        if start:
            pause(STEP_PAUSE_S)
        yield range(start, min(start + step, count))
