"""Reading a large JSON batch body in a child process, at background CPU priority.

A 20,000-image JSON body is ~30 MB of numbers: seconds of parsing and checking. In the
gevent web process that CPU is taken from every live drawer, and even on a native thread it
holds the GIL the event loop needs: a drawer's p99 rose ~8x while a batch uploaded. A child
process has its own GIL, runs `nice`d below the web and the live worker, and gives its memory
back when it exits. Small bodies (the common case, and every in-process test) are read
inline: a child's start-up (~0.2 s) would cost more than it saves.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading

from werkzeug.exceptions import ServiceUnavailable

from shared.batch_body import Ingested, ingest_json, read_output
from shared.preprocess import InvalidInput
from webapp.cooperative import STEP_PAUSE_S, pause, read_pieces, write_pieces

log = logging.getLogger(__name__)
CHILD_TIMEOUT_S = 300.0


def read_json_batch(body: bytes | list[bytes], limit: int, chunk_size: int,
                    inline_max_bytes: int, nice: int) -> Ingested:
    """The body (bytes, or the pieces it was read in) as items, checked and chunked; in a
    child process when it is large, which gets the pieces one by one: never joined here."""
    pieces = [body] if isinstance(body, bytes) else body
    if sum(map(len, pieces)) <= inline_max_bytes:
        return ingest_json(b"".join(pieces), limit, chunk_size)
    return ingest_in_child(pieces, limit, chunk_size, nice)


def ingest_in_child(pieces: list[bytes], limit: int, chunk_size: int, nice: int) -> Ingested:
    """Run `shared.batch_body` as a child at `nice`; cooperative under gevent (its
    subprocess module is patched), a plain blocking call elsewhere.

    The child reads all of its input before it writes, so the body is written first, piece by
    piece, then the answer (as large as the body) is read payload by payload
    (`shared.batch_body.read_output`), each with a pause after it. Read in one go it held the
    web's event loop ~100 ms as the upload ended; joined and split after paced reads, still
    46 ms. A child that outlives CHILD_TIMEOUT_S is killed.
    """
    cmd = [sys.executable, "-m", "shared.batch_body", "--limit", str(limit),
           "--chunk", str(chunk_size)]
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE,
                                preexec_fn=(lambda: os.nice(nice)) if nice > 0 else None)
        watchdog = threading.Timer(CHILD_TIMEOUT_S, proc.kill)
        watchdog.start()
        try:
            assert proc.stdin and proc.stdout and proc.stderr
            with contextlib.suppress(BrokenPipeError):  # a child that died says why below
                write_pieces(proc.stdin, pieces)
            proc.stdin.close()
            try:
                result: Ingested | Exception = read_output(
                    proc.stdout, lambda: pause(STEP_PAUSE_S))
            except (ValueError, RuntimeError) as exc:  # judged after the exit code, below
                result = exc
                read_pieces(proc.stdout)  # drain it, or a child still writing never exits
            err = proc.stderr.read()
            code = proc.wait()
        finally:
            watchdog.cancel()
        if code != 0:
            tail = err.decode(errors="replace").strip().splitlines()[-1:]
            raise RuntimeError(f"exit code {code}: {tail}")
        if isinstance(result, Exception):
            raise result
        return result
    except InvalidInput:
        raise  # the body itself is refused: a 400 that names why
    except (OSError, RuntimeError, ValueError) as exc:
        log.error("the batch reader child failed on a %d-byte body: %s",
                  sum(map(len, pieces)), exc)
        raise ServiceUnavailable("the batch could not be read right now; try again") from None
