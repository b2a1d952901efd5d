"""Explain benchmark: what `"explain": true` costs a live drawer, and what it costs others.

One throwaway system (embedded Redis, one worker, the web server; devtools/stack.py) and
Socket.IO clients that send what the page sends (112x112 PNG data URLs of MNIST test digits),
one frame at a time, each timed from the emit to its `prediction`:

  1. one client, frames with and without `explain` interleaved (so both see the same
     machine): p50/p95 of each and the ratio (issue 12's target: explain <= 2x without);
  2. a second client that never asks for saliency, alone and while the first streams
     explained frames back to back: its p50/p95 and the ratio (explained frames must not
     slow other clients' live frames beyond sharing the CPU).

    python bench/explain.py                 # 100 frames of each kind
    python bench/explain.py --frames 300

Compare the ratios, not the absolute times: the machine's other load shows in every figure.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

import numpy as np

from devtools.frame_client import FRAME, TIMEOUT_S, Drawer, line, page_frame, pct
from shared.mnist import load_mnist

MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def run(url: str, frames: list[str]) -> None:
    """Both measurements against a running system at `url`."""
    a = Drawer(url)
    for image in frames[:5]:  # warm up both paths (traces, connections)
        a.draw(image, False)
        a.draw(image, True)
    plain, explained = [], []
    for image in frames:
        plain.append(a.draw(image, False)[0])
        ms, answer = a.draw(image, True)
        explained.append(ms)
        assert np.asarray(answer["saliency"]).shape == (28, 28)
    print("1. one client, frames interleaved:")
    print(line("without explain", plain))
    print(line("with explain (1 + inked patches, one pass)", explained))
    print(f"  ratio with/without: p50 {pct(explained, 50) / pct(plain, 50):.2f}x, "
          f"p95 {pct(explained, 95) / pct(plain, 95):.2f}x (target <= 2x)")

    b = Drawer(url)
    alone = [b.draw(image, False)[0] for image in frames]
    stop = threading.Event()

    def stream() -> None:
        while not stop.is_set():
            for image in frames:
                if stop.is_set():
                    break
                a.draw(image, True)

    streamer = threading.Thread(target=stream, daemon=True)
    streamer.start()
    beside = [b.draw(image, False)[0] for image in frames]
    stop.set()
    streamer.join(TIMEOUT_S)
    print("2. another client that does not ask for saliency:")
    print(line("alone", alone))
    print(line("while the first streams explained frames", beside))
    print(f"  ratio beside/alone: p50 {pct(beside, 50) / pct(alone, 50):.2f}x, "
          f"p95 {pct(beside, 95) / pct(alone, 95):.2f}x")
    a.close()
    b.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--frames", type=int, default=100, help="frames of each kind (default 100)")
    ap.add_argument("--url", help="measure a running system at this URL (else start one)")
    ap.add_argument("--mnist", default=str(MNIST_DIR), help="MNIST folder (test digits)")
    args = ap.parse_args()
    digits = load_mnist("test", args.mnist).images[: args.frames]
    frames = [page_frame(d) for d in digits]
    print(f"bench/explain.py: {args.frames} frames of each kind, {FRAME}x{FRAME} PNG frames",
          flush=True)
    if args.url:
        run(args.url, frames)
        return 0
    from devtools.stack import running_system

    with running_system(workers=1) as stack:
        print(f"system up: {stack.url} (logs in {stack.log_dir})", flush=True)
        run(stack.url, frames)
    return 0


if __name__ == "__main__":
    sys.exit(main())
