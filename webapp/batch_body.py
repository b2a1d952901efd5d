"""Reading a large JSON batch body in a child process, at background CPU priority.

A 20,000-image JSON body is ~30 MB of numbers: seconds of parsing and checking. In the
gevent web process that CPU is taken from every live drawer, and even on a native thread it
holds the GIL the event loop needs: a drawer's p99 rose ~8x while a batch uploaded. A child
process has its own GIL, runs `nice`d below the web and the live worker, and gives its memory
back when it exits. Small bodies (the common case, and every in-process test) are read
inline: a child's start-up (~0.2 s) would cost more than it saves.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from werkzeug.exceptions import ServiceUnavailable

from shared.batch_body import Ingested, decode, ingest_json
from shared.preprocess import InvalidInput

log = logging.getLogger(__name__)
CHILD_TIMEOUT_S = 300.0


def read_json_batch(raw: bytes, limit: int, chunk_size: int, inline_max_bytes: int,
                    nice: int) -> Ingested:
    """The body's items, checked and chunked; in a child process when it is large."""
    if len(raw) <= inline_max_bytes:
        return ingest_json(raw, limit, chunk_size)
    return ingest_in_child(raw, limit, chunk_size, nice)


def ingest_in_child(raw: bytes, limit: int, chunk_size: int, nice: int) -> Ingested:
    """Run `shared.batch_body` as a child at `nice`; cooperative under gevent (its
    subprocess module is patched), a plain blocking call elsewhere."""
    cmd = [sys.executable, "-m", "shared.batch_body", "--limit", str(limit),
           "--chunk", str(chunk_size)]
    try:
        proc = subprocess.run(cmd, input=raw, capture_output=True, timeout=CHILD_TIMEOUT_S,
                              preexec_fn=(lambda: os.nice(nice)) if nice > 0 else None,
                              check=False)
        if proc.returncode != 0:
            tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:]
            raise RuntimeError(f"exit code {proc.returncode}: {tail}")
        return decode(proc.stdout)
    except InvalidInput:
        raise  # the body itself is refused: a 400 that names why
    except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
        log.error("the batch reader child failed on a %d-byte body: %s", len(raw), exc)
        raise ServiceUnavailable("the batch could not be read right now; try again") from None
