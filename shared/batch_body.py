"""A JSON batch body -> its item count, each bad item's error, and the good items' chunks.

A pure function of the body (no Redis, no settings, no Flask), so the web can run it in a
child process of its own for large bodies (webapp/batch_body.py says why):

    python -m shared.batch_body --limit 20000 --chunk 128 < body.json > out

Output: one JSON header line `{"total", "errors": {index: message}, "sizes": [bytes, ...]}`,
then the chunk payloads back to back (shared.batches.chunk_payload), or `{"error": ...}`
alone for a body that is refused as a whole.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from shared.batches import chunk_payload
from shared.number_wire import checked_any
from shared.preprocess import InvalidInput
from shared.strict_json import parse_object


@dataclass
class Ingested:
    """A parsed batch: its size, each bad item's error, and the good items' chunk payloads."""

    total: int
    errors: dict[int, str]
    payloads: list[bytes]


def check_count(count: int, limit: int) -> None:
    """Refuse an empty or oversized batch before any item is decoded."""
    if not count:
        raise InvalidInput("the batch is empty: send files in 'images' or a JSON 'images' list")
    if count > limit:
        raise InvalidInput(f"too many items: at most {limit} per batch, got {count}")


def checked_or_error(entry: Any) -> dict[str, Any] | InvalidInput:
    """A JSON item checked now and sent on in compact form (images are decoded once, by the
    worker), or its error."""
    try:
        return checked_any(entry)  # a plain item, or one with "mode" (shared/number.py)
    except InvalidInput as exc:
        return exc


def chunked(items: list[dict[str, Any] | InvalidInput], size: int) -> Ingested:
    """Split checked items into errors and chunk payloads of `size` good items each."""
    errors = {i: str(it) for i, it in enumerate(items) if isinstance(it, InvalidInput)}
    good = [(i, it) for i, it in enumerate(items) if not isinstance(it, InvalidInput)]
    payloads = [chunk_payload([i for i, _ in good[s : s + size]],
                              [it for _, it in good[s : s + size]]).encode()
                for s in range(0, len(good), size)]
    return Ingested(len(items), errors, payloads)


def ingest_json(raw: bytes, limit: int, chunk_size: int) -> Ingested:
    """Parse strictly, count, check each item, chunk: the whole job, in whatever process."""
    images = parse_object(raw, {"images"}).get("images")
    if not isinstance(images, list):
        raise InvalidInput("'images' must be a list of {\"pixels\"|\"image\": ...} objects")
    check_count(len(images), limit)
    return chunked([checked_or_error(entry) for entry in images], chunk_size)


def encode(result: Ingested) -> bytes:
    """The child's output: a JSON header line, then the payloads back to back."""
    header = {"total": result.total, "errors": result.errors,
              "sizes": [len(p) for p in result.payloads]}
    return json.dumps(header).encode() + b"\n" + b"".join(result.payloads)


def read_output(stream: IO[bytes], between: Callable[[], None] = lambda: None) -> Ingested:
    """The child's output (`encode`), read back from its stdout; InvalidInput if it refused
    the body. The header line, then each payload read on its own (calling `between` after
    each), so the whole output is never joined or copied in one go: the web's event loop
    waits out every such copy."""
    header = json.loads(stream.readline())
    if "error" in header:
        raise InvalidInput(header["error"])
    payloads = []
    for size in header["sizes"]:
        payload = stream.read(size)
        if len(payload) != size:
            raise RuntimeError("batch reader output is truncated")
        payloads.append(payload)
        between()
    if stream.read(1):
        raise RuntimeError("batch reader output is malformed: bytes after the last payload")
    return Ingested(header["total"], {int(i): m for i, m in header["errors"].items()}, payloads)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, required=True, help="most items allowed")
    ap.add_argument("--chunk", type=int, required=True, help="good items per chunk payload")
    args = ap.parse_args(argv)
    raw = sys.stdin.buffer.read()
    try:
        out = encode(ingest_json(raw, args.limit, args.chunk))
    except InvalidInput as exc:
        out = json.dumps({"error": str(exc)}).encode() + b"\n"
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
