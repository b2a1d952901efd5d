"""What a frame's hand-off to the micro-batcher's thread costs, and what running the pass in
the caller's thread saves (worker/batcher.py).

A live worker receives a frame every few ms; between frames its threads sleep. Each sleeping
thread that must wake (the loop thread to run the pass, then the task thread to take the
answer) costs CPU on this kind of machine, far more than the hand-off itself costs when
threads are busy. This times, in CPU and wall ms per call, a trivial forward pass
(no model, so only the hand-off shows):
  inline    `classify`: on an idle batcher the calling thread runs the pass itself;
  hand-off  `submit(...).result()`: the loop thread runs it, as every pass did before;
spaced like live frames (--gap ms apart, default 10) and back to back, in interleaved rounds.

    python bench/batcher_handoff.py
    python bench/batcher_handoff.py --calls 2000 --gap 5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worker.batcher import MicroBatcher  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--calls", type=int, default=1000, help="calls per way and spacing")
    p.add_argument("--gap", type=float, default=10.0, help="ms between spaced calls")
    p.add_argument("--rounds", type=int, default=5)
    return p.parse_args(argv)


def timed(call: object, calls: int, gap_s: float) -> tuple[float, float]:
    """CPU and wall ms per call, the sleeps between calls excluded from the wall time."""
    cpu, wall = time.process_time(), 0.0
    for _ in range(calls):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        wall += time.perf_counter() - started
        if gap_s:
            time.sleep(gap_s)
    return (time.process_time() - cpu) / calls * 1000, wall / calls * 1000


def main(argv: list[str] | None = None) -> int:
    """Interleave the two ways per spacing; print the median round of each."""
    args = parse_args(argv)
    batcher = MicroBatcher(lambda x: (np.zeros((len(x), 12), np.float32), 1))
    digit = np.zeros((1, 28, 28), np.uint8)
    sleep_cpu = timed(lambda: None, args.calls // args.rounds, args.gap / 1000)[0]
    ways = {"inline": lambda: batcher.classify(digit, live=True),
            "hand-off": lambda: batcher.submit(digit, live=True).result()}
    print(f"trivial pass, {args.calls} calls per way, {args.rounds} interleaved rounds; "
          f"CPU of the sleep alone {sleep_cpu:.3f} ms per call (subtracted when spaced)")
    print(f"{'spacing':<16}{'way':<10}{'CPU ms/call':>13}{'wall ms/call':>14}")
    for gap in (args.gap, 0.0):
        per: dict[str, list[tuple[float, float]]] = {w: [] for w in ways}
        for _ in range(args.rounds):
            for name, call in ways.items():
                per[name].append(timed(call, args.calls // args.rounds, gap / 1000))
        for name, runs in per.items():
            cpu = float(np.median([c for c, _ in runs])) - (sleep_cpu if gap else 0.0)
            wall = float(np.median([w for _, w in runs]))
            label = f"{gap:g} ms apart" if gap else "back to back"
            print(f"{label:<16}{name:<10}{cpu:>13.3f}{wall:>14.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
