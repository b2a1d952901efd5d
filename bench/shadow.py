"""Shadow benchmark: what a shadow version costs the admin's own live frames (issue 12's
target: at most 30% extra latency).

One throwaway system (embedded Redis, one worker, the web server; devtools/stack.py) with a
second published version (a copy of the bundled model, so the shadow pass is a real second
model of the same size), and one admin Socket.IO client that sends what the page sends
(112x112 PNG data URLs of MNIST test digits), one frame at a time, each timed from the emit to
its `prediction`. Frames with and without the shadow alternate (the `shadow` event between
them is not timed), so both kinds see the same machine; the order within each pair alternates
too. Prints p50/p95/p99 of each and the ratios.

    python bench/shadow.py                 # 200 frames of each kind
    python bench/shadow.py --frames 400

Compare the ratios, not the absolute times: the machine's other load shows in every figure.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from devtools.frame_client import FRAME, Drawer, line, page_frame, pct
from shared.mnist import load_mnist
from shared.model_store import BUNDLED_DIR, MODEL_FILE, ModelStore

MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def run(url: str, frames: list[str], shadow: int, token: str) -> None:
    """Shadow off vs on for one admin client against a running system at `url`."""
    admin = Drawer(url, auth={"token": token})
    admin.set_shadow(shadow)
    for image in frames[:5]:  # warm up: the worker loads the shadow version on first use
        assert admin.draw(image)[1]["shadow"]["model_version"] == shadow
    plain, shadowed = [], []
    for i, image in enumerate(frames):
        for on in ((False, True) if i % 2 else (True, False)):
            admin.set_shadow(shadow if on else None)
            ms, answer = admin.draw(image)
            assert ("shadow" in answer) == on
            (shadowed if on else plain).append(ms)
    print("one admin client, frames with and without the shadow alternating:")
    print(line("shadow off", plain))
    print(line(f"shadow on (v{shadow}: one extra forward pass)", shadowed))
    print("  ratio on/off: " + ", ".join(
        f"p{q} {pct(shadowed, q) / pct(plain, q):.2f}x" for q in (50, 95, 99))
        + " (target <= 1.30x)")
    admin.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--frames", type=int, default=200, help="frames of each kind (default 200)")
    ap.add_argument("--url", help="measure a running system at this URL (else start one)")
    ap.add_argument("--shadow", type=int, help="with --url: the published version to shadow")
    ap.add_argument("--token", default=os.environ.get("ADMIN_TOKEN", ""),
                    help="with --url: the admin token (default: $ADMIN_TOKEN)")
    ap.add_argument("--mnist", default=str(MNIST_DIR), help="MNIST folder (test digits)")
    args = ap.parse_args()
    digits = load_mnist("test", args.mnist).images[: args.frames]
    frames = [page_frame(d) for d in digits]
    print(f"bench/shadow.py: {args.frames} frames of each kind, {FRAME}x{FRAME} PNG frames",
          flush=True)
    if args.url:
        if args.shadow is None:
            ap.error("--url needs --shadow (a published version)")
        run(args.url, frames, args.shadow, args.token)
        return 0
    from devtools.stack import running_system

    with running_system(workers=1) as stack:
        shadow = ModelStore(stack.store).publish(
            BUNDLED_DIR / MODEL_FILE, {"source": "bench/shadow.py: the bundled model again"})
        print(f"system up: {stack.url} (logs in {stack.log_dir}); shadow version v{shadow}",
              flush=True)
        run(stack.url, frames, shadow, stack.env["ADMIN_TOKEN"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
