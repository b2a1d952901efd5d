"""Whole-number accuracy (issue 12): 4-digit numbers composed from real digits, read by the
product's own path (`shared.segment` + `to_mnist` + `shared.classifier`, as `digitflow predict
--number` does).

Two figures: numbers composed from MNIST *test* digits (random gaps of 0-8 px at the 28x28
scale, 10% of the neighbouring pairs touching: overlapping by 1-3 px), and numbers drawn from
real pen strokes (pendigits) by the page's renderer on the number-mode canvas, read from the
pixels alone (REST/CLI) and with the strokes' extents (as the live page sends them). Prints
exact-number accuracy, per-digit accuracy, the segmentation error rate (wrong digit count),
and saves a PNG of a sample of the misses. Seeded: the same command gives the same figures.

    python bench/whole_numbers.py                      # 1000 numbers of each kind
    python bench/whole_numbers.py --n 300 --seed 1
    python bench/whole_numbers.py --n 4000              # +-0.27 points near 97% (1000: +-0.54)
    python bench/whole_numbers.py --tune --n 3000      # fit the reading choice (held-out train)
"""

# ruff: noqa: E402  (the path fix below must run before any other import)
from __future__ import annotations

import os
import sys

# Run as `python bench/whole_numbers.py`, this folder comes first on sys.path and this file would
# shadow the standard library's `numbers` (which numpy imports): put the repository there.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import argparse
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow's lazy import

from devtools.compose import Spacing, compose_mnist, compose_mnist_centres, compose_pen
from devtools.tune_reading import tune_reading
from shared.mnist import load_mnist
from shared.model_store import BUNDLED_DIR
from shared.number import READING_WEIGHTS, classify_mixed, number_slots
from trainer.data.pendigits import FILE as PENDIGITS_FILE
from trainer.data.pendigits import load_pendigits

DATA = ROOT.parent / "shared" / "data"
DIGITS_PER_NUMBER = 4
CHUNK = 64  # numbers per forward pass


@dataclass
class Case:
    """One composed number: its ink, its true digits, and the strokes' spans (pen only)."""

    ink: np.ndarray
    truth: str
    spans: list[tuple[float, float, float, float]] | None = None
    touching: bool = False  # some neighbouring pair overlaps


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--n", type=int, default=1000, help="numbers of each kind")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mnist", type=Path, default=DATA / "mnist")
    p.add_argument("--pendigits", type=Path, default=DATA / "pendigits")
    p.add_argument("--model-dir", type=Path, default=BUNDLED_DIR,
                   help="folder with model.keras and meta.json (default: the bundled model)")
    p.add_argument("--out", type=Path, default=ROOT / "var" / "plots")
    p.add_argument("--live", type=int, default=0, metavar="FRAMES",
                   help="also start a private system (Redis, a worker, the web server) and time "
                        "FRAMES live number frames against as many single-digit frames")
    p.add_argument("--tune", action="store_true",
                   help="fit shared.number's reading choice on the MNIST *train* digits "
                        "that training holds out")
    return p.parse_args(argv)


def mnist_cases(images: np.ndarray, labels: np.ndarray, n: int, rng: np.random.Generator,
                spacing: Spacing) -> list[Case]:
    """`n` numbers of random digits from one MNIST split."""
    cases = []
    for _ in range(n):
        idx = rng.integers(0, len(labels), DIGITS_PER_NUMBER)
        gaps = spacing.draw(rng, DIGITS_PER_NUMBER - 1)
        truth = "".join(str(int(labels[i])) for i in idx)
        cases.append(Case(compose_mnist(images[idx], gaps), truth, None, bool((gaps < 0).any())))
    return cases


def writer_halves(folder: Path) -> tuple[set[int], set[int]]:
    """The pendigits writers split in two: the first half tunes the split rule, the second
    is what the pen figures are measured on."""
    writers = sorted({p.writer for p in load_pendigits(folder)})
    return set(writers[: len(writers) // 2]), set(writers[len(writers) // 2 :])


def pen_cases(folder: Path, n: int, rng: np.random.Generator, spacing: Spacing) -> list[Case]:
    """`n` numbers drawn from random pendigits digits of the measured writers, as the page's
    number canvas would draw them."""
    _, measured = writer_halves(folder)
    pen = [p for p in load_pendigits(folder) if p.writer in measured]
    cases = []
    for _ in range(n):
        idx = rng.integers(0, len(pen), DIGITS_PER_NUMBER)
        gaps = spacing.draw(rng, DIGITS_PER_NUMBER - 1)
        ink, spans = compose_pen([pen[i].strokes for i in idx], gaps, rng)
        cases.append(Case(ink, "".join(str(pen[i].label) for i in idx), spans,
                          bool((gaps < 0).any())))
    return cases


def read_numbers(cases: list[Case], model, with_strokes: bool  # type: ignore[no-untyped-def]
                 ) -> list[dict]:
    """Each case through segmentation, to_mnist and the model (CHUNK numbers per pass)."""
    version = model.version
    out: list[dict] = []
    for start in range(0, len(cases), CHUNK):
        chunk = cases[start : start + CHUNK]
        out += classify_mixed(
            chunk, lambda _: True, lambda _: None,
            lambda c: number_slots(c.ink, c.spans if with_strokes else None),
            lambda d: (model.score(d), version), version)  # scored rows, as served
    return out


def score(cases: list[Case], answers: list[dict]) -> dict[str, float]:
    """Exact-number accuracy, per-digit accuracy (numbers with the right count), and the
    segmentation error rate (wrong digit count)."""
    exact = seg_wrong = digits_right = digits_seen = 0
    for case, ans in zip(cases, answers, strict=True):
        got = ans.get("number", "")
        exact += got == case.truth
        if len(got) != len(case.truth):
            seg_wrong += 1
            continue
        digits_seen += len(got)
        digits_right += sum(a == b for a, b in zip(got, case.truth, strict=True))
    n = len(cases)
    return {"exact": exact / n, "per_digit": digits_right / max(digits_seen, 1),
            "segmentation_errors": seg_wrong / n, "n": n}


MISS_KINDS = ("too few digits (two read as one)", "too many digits (a digit cut in two)",
              "a digit read wrong, in a number with a touching pair",
              "a digit read wrong, in a number with none")


def miss_kinds(cases: list[Case], answers: list[dict]) -> dict[str, int]:
    """The misses by kind: a wrong count (too few, too many), or a wrong digit in a number with
    or without a touching pair (the last are mostly the model misreading a lone digit)."""
    out = dict.fromkeys(MISS_KINDS, 0)
    for case, ans in zip(cases, answers, strict=True):
        got = ans.get("number", "")
        if got == case.truth:
            continue
        if len(got) != len(case.truth):
            out[MISS_KINDS[0 if len(got) < len(case.truth) else 1]] += 1
        else:
            out[MISS_KINDS[2 if case.touching else 3]] += 1
    return out


def standard_error(rate: float, n: float) -> float:
    """A binomial rate's standard error: 1,000 numbers near 97% are read to about +-0.54
    points, so a figure this close to its target needs a larger `--n` to tell."""
    return math.sqrt(rate * (1.0 - rate) / n) if n else 0.0


def report(title: str, figures: dict[str, float], seconds: float) -> None:
    """Print one block of figures."""
    print(f"{title}:")
    print(f"  exact-number accuracy  {figures['exact']:.2%}  ({figures['n']} numbers, "
          f"standard error {standard_error(figures['exact'], figures['n']):.2%})")
    print(f"  per-digit accuracy     {figures['per_digit']:.2%}  (numbers with the right count)")
    print(f"  segmentation errors    {figures['segmentation_errors']:.2%}  (wrong digit count)")
    print(f"  time                   {seconds:.1f} s ({seconds / figures['n'] * 1000:.1f} ms "
          "per number, this machine, shared)")


def save_misses(cases: list[Case], answers: list[dict], path: Path, limit: int = 24) -> Path | None:
    """A PNG of up to `limit` misses, titled true -> read."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    misses = [(c, a) for c, a in zip(cases, answers, strict=True)
              if a.get("number") != c.truth][:limit]
    if not misses:
        return None
    cols = 3
    rows = (len(misses) + cols - 1) // cols
    fig = Figure(figsize=(4 * cols, 1.3 * rows))
    for k, (case, ans) in enumerate(misses):
        ax = fig.add_subplot(rows, cols, k + 1)
        ax.imshow(case.ink, cmap="gray", aspect="equal")
        ax.set_title(f"{case.truth} -> {ans.get('number', ans.get('error'))}", fontsize=9)
        ax.axis("off")
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=90, bbox_inches="tight")
    return path


def tune(args: argparse.Namespace, model) -> None:  # type: ignore[no-untyped-def]
    """Fit the reading choice (shared.number: width prior, READING_WEIGHTS) on
    numbers of the MNIST *train* digits that training holds out (`Recipe.calibration_holdout`:
    the model never saw them, alone or in a touching pair), never on the test digits the
    figures are measured on."""
    from trainer.data.mix import split_holdout
    from trainer.data.sets import LabelledSet
    from trainer.recipe import Recipe

    rng = np.random.default_rng(args.seed + 1000)
    spacing = Spacing()
    everything = load_mnist("train", args.mnist)
    train = split_holdout(LabelledSet("mnist train", everything.images, everything.labels),
                          Recipe().calibration_holdout)[1]
    cases = []
    for _ in range(args.n):
        idx = rng.integers(0, len(train.y), DIGITS_PER_NUMBER)
        ink, centres = compose_mnist_centres(train.x[idx],
                                             spacing.draw(rng, DIGITS_PER_NUMBER - 1))
        cases.append((ink, centres, "".join(str(int(train.y[i])) for i in idx)))
    tune_reading(cases, lambda d: model.score(d), model.version)


def live_latency(cases: list[Case], digits: np.ndarray, frames: int) -> None:
    """Round trips of number frames and single-digit frames through the running system,
    interleaved in one run (a Socket.IO client, the web, Redis, a worker and back)."""
    from devtools.sio import RecordingClient
    from devtools.stack import running_system

    def png_url(ink: np.ndarray) -> str:
        """A frame as the page sends it: a PNG data URL, white ink on black."""
        import base64
        import io

        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(np.clip(np.rint(ink), 0, 255).astype(np.uint8)).save(buf, "PNG")
        return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()

    timings: dict[str, list[float]] = {"digit": [], "number": []}
    with running_system(workers=1) as stack:
        client = RecordingClient(stack.url)
        try:
            for seq in range(1, 2 * frames + 11):
                kind = "number" if seq % 2 else "digit"
                if kind == "number":
                    case = cases[seq % len(cases)]
                    frame = {"image": png_url(case.ink), "mode": "number",
                             "strokes": [list(b) for b in case.spans or []]}
                else:  # the page's single-digit frame is 112x112
                    frame = {"image": png_url(np.kron(digits[seq % len(digits)],
                                                      np.ones((4, 4))))}
                started = time.perf_counter()
                client.sio.emit("draw", {**frame, "seq": seq})
                client.wait_for("prediction", lambda d, s=seq: d["seq"] == s, timeout=30)
                if seq > 10:  # the first frames warm the path up
                    timings[kind].append((time.perf_counter() - started) * 1000)
        finally:
            client.close()
    med = {k: float(np.median(v)) for k, v in timings.items()}
    p90 = {k: float(np.percentile(v, 90)) for k, v in timings.items()}
    print(f"live round trip, one client, {frames} frames of each kind, interleaved:")
    print(f"  single digit (112x112 PNG)         p50 {med['digit']:.1f} ms, "
          f"p90 {p90['digit']:.1f} ms")
    print(f"  4-digit number (112x448 PNG, strokes) p50 {med['number']:.1f} ms, "
          f"p90 {p90['number']:.1f} ms  ({med['number'] / med['digit']:.2f}x the digit)")


def main(argv: list[str] | None = None) -> int:
    """Compose, read and score both kinds of numbers."""
    args = parse_args(argv)
    from shared.classifier import Classifier

    model = Classifier(args.model_dir)
    print(f"model: {args.model_dir} (version {model.version}); seed {args.seed}; "
          f"reading weights {READING_WEIGHTS}")
    if args.tune:
        tune(args, model)
        return 0
    spacing = Spacing()
    rng = np.random.default_rng(args.seed)
    test = load_mnist("test", args.mnist)
    runs = [("MNIST test digits", mnist_cases(test.images, test.labels, args.n, rng, spacing),
             False, "numbers-misses-mnist.png")]
    pen_file = args.pendigits / PENDIGITS_FILE
    _, measured = writer_halves(args.pendigits)
    pens = pen_cases(args.pendigits, args.n, rng, spacing)
    who = f"{pen_file}, writers {min(measured)}-{max(measured)}"
    runs += [(f"pen strokes from {who}, pixels only (REST, CLI)", pens, False,
              "numbers-misses-pen.png"),
             (f"pen strokes from {who}, with the strokes' extents (live page)", pens,
              True, "numbers-misses-pen-strokes.png")]
    print(f"composition: {DIGITS_PER_NUMBER} digits, gaps 0-{spacing.max_gap} px at the "
          f"28x28 scale, {spacing.touch_share:.0%} of pairs touching (overlap 1-"
          f"{spacing.max_touch} px)")
    for title, cases, with_strokes, png in runs:
        started = time.perf_counter()
        answers = read_numbers(cases, model, with_strokes)
        report(title, score(cases, answers), time.perf_counter() - started)
        for kind, count in miss_kinds(cases, answers).items():
            print(f"    {count:4d} misses: {kind}")
        saved = save_misses(cases, answers, args.out / png)
        if saved:
            print(f"  misses                 {saved}")
    if args.live:
        live_latency(pens, test.images[:100], args.live)
    return 0


if __name__ == "__main__":
    sys.exit(main())
