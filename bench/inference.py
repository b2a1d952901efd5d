"""In-process inference benchmark: the model and the preprocessing, without Redis or Celery.

Prints single-image latency (p50/p99) through `shared.classifier.Classifier`, batch throughput,
the cost of `shared.preprocess.to_mnist` per image, what `model.predict` costs for one image
(why digitflow does not use it), and the peak RSS of this process; with --compare-runtimes,
ONNX Runtime (what serves) against TensorFlow on the same weights.

    python bench/inference.py                                  # the bundled default model
    python bench/inference.py --compare-runtimes --calls 1000
    python bench/inference.py --onnx-threads                   # one ORT thread vs every core
    python bench/inference.py --model-dir var/models/versions/3 --json bench-inference.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from shared.model_store import BUNDLED_DIR
from shared.preprocess import to_mnist

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow's lazy import

DEFAULT_BATCH_SIZES = (1, 32, 256, 1024)
SIBLING_MNIST = ROOT.parent / "shared" / "data" / "mnist"  # the CI layout


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model-dir", type=Path, default=BUNDLED_DIR,
                   help="folder with model.keras and meta.json (e.g. a store version)")
    p.add_argument("--data", default=os.environ.get("MNIST_DIR") or (
        str(SIBLING_MNIST) if SIBLING_MNIST.is_dir() else None),
                   help="MNIST folder (default: MNIST_DIR); random digits are used without it")
    p.add_argument("--calls", type=int, default=2000, help="single-image calls for p50/p99")
    p.add_argument("--warmup", type=int, default=50, help="untimed calls before measuring")
    p.add_argument("--batch-sizes", default=",".join(map(str, DEFAULT_BATCH_SIZES)),
                   help="comma-separated batch sizes for the throughput table")
    p.add_argument("--batch-seconds", type=float, default=1.5,
                   help="time spent on each batch size (at least 3 passes)")
    p.add_argument("--preprocess-images", type=int, default=2000,
                   help="MNIST test images pushed through to_mnist")
    p.add_argument("--predict-calls", type=int, default=10,
                   help="one-image model.predict calls, for comparison")
    p.add_argument("--compare-dir", type=Path, default=None,
                   help="another model folder (e.g. the previous bundled model): its single-"
                        "image latency is measured in the same run, interleaved, for a ratio")
    p.add_argument("--compare-runtime", choices=("same", "onnx", "tensorflow"), default="same",
                   help="what runs the --compare-dir model (e.g. tensorflow: as an older "
                        "digitflow served it)")
    p.add_argument("--runtime", choices=("auto", "onnx", "tensorflow"), default="auto",
                   help="what runs the model (auto: ONNX Runtime where the model translates)")
    p.add_argument("--compare-runtimes", action="store_true",
                   help="also time one image and a batch of 256 under ONNX Runtime and "
                        "TensorFlow, interleaved, wall and CPU time per call")
    p.add_argument("--onnx-threads", action="store_true",
                   help="also compare ONNX Runtime sessions on one thread and on every core, "
                        "per pass size (why a one-row pass runs on one thread)")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    return p.parse_args(argv)


def test_digits(data: str | None, n: int) -> tuple[np.ndarray, str]:
    """MNIST test digits (uint8, n x 28 x 28), or random noise digits when MNIST is absent."""
    if data:
        from shared.mnist import load_mnist

        return load_mnist("test", data).images[:n], f"MNIST test set ({data})"
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), "random digits (no MNIST found)"


def timed(fn: Callable[[], object], calls: int) -> np.ndarray:
    """Run `fn` `calls` times; return each call's wall time in milliseconds."""
    out = np.empty(calls)
    for i in range(calls):
        t0 = time.perf_counter()
        fn()
        out[i] = (time.perf_counter() - t0) * 1000
    return out


def bench_single(classifier: object, digits: np.ndarray, calls: int, warmup: int) -> dict:
    """Latency of one image per call through the compiled forward pass."""
    one = [digits[i % len(digits)][None] for i in range(max(calls, warmup))]
    for x in one[:warmup]:
        classifier.predict(x)
    it = iter(one)
    ms = timed(lambda: classifier.predict(next(it)), calls)
    return {"calls": calls, "p50_ms": float(np.percentile(ms, 50)),
            "p99_ms": float(np.percentile(ms, 99)), "mean_ms": float(ms.mean())}


def bench_batches(classifier: object, digits: np.ndarray, sizes: list[int],
                  seconds: float) -> list[dict]:
    """Images per second for each batch size, run for about `seconds` each."""
    rows = []
    for size in sizes:
        batch = np.resize(digits, (size, 28, 28))
        classifier.predict(batch)  # warm-up for this shape
        passes, t0 = 0, time.perf_counter()
        while passes < 3 or time.perf_counter() - t0 < seconds:
            classifier.predict(batch)
            passes += 1
        elapsed = time.perf_counter() - t0
        rows.append({"batch": size, "passes": passes, "ms_per_batch": elapsed / passes * 1000,
                     "images_per_s": size * passes / elapsed})
    return rows


def bench_preprocess(digits: np.ndarray) -> dict:
    """Cost of to_mnist per image: MNIST digits as-is, and the same drawn on a 280x280 canvas."""
    from PIL import Image

    as_is = [d.astype(np.float32) for d in digits]
    t0 = time.perf_counter()
    for d in as_is:
        to_mnist(d)
    per_28 = (time.perf_counter() - t0) / len(as_is) * 1e6
    n_canvas = min(len(digits), 300)
    canvases = []
    for d in digits[:n_canvas]:
        canvas = np.zeros((280, 280), np.float32)
        canvas[40:180, 100:240] = np.asarray(Image.fromarray(d).resize((140, 140)), np.float32)
        canvases.append(canvas)
    t0 = time.perf_counter()
    for c in canvases:
        to_mnist(c)
    per_280 = (time.perf_counter() - t0) / n_canvas * 1e6
    return {"images_28x28": len(as_is), "us_per_image_28x28": per_28,
            "images_280x280": n_canvas, "us_per_image_280x280": per_280}


def bench_keras_predict(classifier: object, digits: np.ndarray, calls: int) -> dict:
    """What `model.predict` costs for one image (it builds a dataset and loop every call)."""
    x = digits[:1].astype(np.float32)[..., None] / 255.0
    classifier.model.predict(x, verbose=0)  # first call traces
    ms = timed(lambda: classifier.model.predict(x, verbose=0), calls)
    return {"calls": calls, "p50_ms": float(np.percentile(ms, 50)), "min_ms": float(ms.min())}


def bench_compare(classifier: object, other_dir: Path, digits: np.ndarray, calls: int,
                  warmup: int, other_runtime: str = "same", rounds: int = 5) -> dict:
    """Single-image p50 of both models, alternating in rounds so load changes hit both alike."""
    from shared.classifier import Classifier

    other = Classifier(other_dir, runtime=classifier.runtime if other_runtime == "same"
                       else other_runtime)
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(bench_single(classifier, digits, calls // rounds, warmup)["p50_ms"])
        theirs.append(bench_single(other, digits, calls // rounds, warmup)["p50_ms"])
    p50, other_p50 = float(np.median(ours)), float(np.median(theirs))
    return {"other_dir": f"{other_dir} ({other.runtime})", "p50_ms": p50, "other_p50_ms": other_p50,
            "ratio": p50 / other_p50}


def interleaved(calls: dict[str, Callable[[int], object]], n_calls: int, rounds: int = 5,
                warmup: int = 10) -> dict[str, dict[str, float]]:
    """Wall and CPU ms per call of each way (called with the call's index), in interleaved
    rounds so load changes hit every way alike; the median round of each."""
    per: dict[str, list[tuple[float, float]]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            for i in range(warmup):
                call(i)
            wall, cpu = time.perf_counter(), time.process_time()
            for i in range(n_calls):
                call(i)
            per[name].append(((time.perf_counter() - wall) / n_calls * 1000,
                              (time.process_time() - cpu) / n_calls * 1000))
    return {name: {"wall_ms": float(np.median([w for w, _ in v])),
                   "cpu_ms": float(np.median([c for _, c in v]))} for name, v in per.items()}


def bench_runtimes(model_dir: Path, digits: np.ndarray, calls: int, warmup: int,
                   rounds: int = 5) -> dict:
    """Per call, wall and CPU time of each runtime for one image and for a batch of 256."""
    from shared.classifier import Classifier

    runtimes = {name: Classifier(model_dir, runtime=name) for name in ("tensorflow", "onnx")}
    out: dict = {}
    for size, n_calls in ((1, max(1, calls // rounds)), (256, 20)):
        xs = [np.resize(digits[i:], (size, 28, 28)) for i in range(n_calls)]
        out[str(size)] = interleaved(
            {name: (lambda i, c=c, xs=xs: c.predict(xs[i % len(xs)]))
             for name, c in runtimes.items()},
            n_calls, rounds, min(warmup, n_calls))
    return out


def bench_onnx_threads(model_dir: Path, digits: np.ndarray, rounds: int = 5) -> dict:
    """Wall and CPU ms per pass of ONNX Runtime on one thread and on every core, per pass
    size."""
    from shared.classifier import Classifier
    from shared.onnx_graph import onnx_session

    model = Classifier(model_dir, runtime="tensorflow").model
    sessions = {"1 thread": onnx_session(model, threads=1),
                f"{os.cpu_count()} threads": onnx_session(model)}
    out: dict = {}
    for rows in (1, 2, 4, 16, 256):
        x = np.ascontiguousarray(np.resize(digits, (rows, 28, 28)), dtype=np.uint8)
        out[str(rows)] = interleaved(
            {name: (lambda _, s=s, x=x: s.run(None, {"digits": x}))
             for name, s in sessions.items()},
            max(2, 400 // rows), rounds)
    return out


def comparison_report(r: dict, size_label: str, way_label: str, base: str,
                      base_label: str) -> str:
    """A comparison as a table: each way's wall and CPU time, and its share of `base`'s."""
    lines = [f"\n{size_label:<14}{way_label:<12}{'wall ms':>10}{'CPU ms':>10}"
             f"{'wall vs ' + base_label:>12}{'CPU vs ' + base_label:>11}", "-" * 69]
    for size, row in r.items():
        ref = row[base]
        for name, v in row.items():
            wall, cpu = v["wall_ms"] / ref["wall_ms"], v["cpu_ms"] / ref["cpu_ms"]
            lines.append(f"{size:<14}{name:<12}{v['wall_ms']:>10.3f}{v['cpu_ms']:>10.3f}"
                         f"{wall:>11.2f}x{cpu:>10.2f}x")
    return "\n".join(lines)


def peak_rss_mib() -> float:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def report(r: dict) -> str:
    """Format the figures as a tidy text table."""
    s, p, k = r["single"], r["preprocess"], r["keras_predict"]
    lines = [
        f"model      : {r['model_dir']} (version {r['model_version']}, "
        f"load {r['load_s']:.2f}s, run by {r['runtime']})",
        f"data       : {r['data']}",
        f"machine    : {r['machine']}",
        "",
        f"{'measure':<44}{'value':>14}",
        "-" * 58,
        f"{'single image, Classifier.predict  p50':<44}{s['p50_ms']:>11.3f} ms",
        f"{'single image, Classifier.predict  p99':<44}{s['p99_ms']:>11.3f} ms",
        f"{'single image, keras model.predict p50':<44}{k['p50_ms']:>11.3f} ms",
        f"{'  -> model.predict is slower by':<44}{k['p50_ms'] / s['p50_ms']:>12.0f} x",
        f"{'to_mnist per 28x28 MNIST image':<44}{p['us_per_image_28x28']:>11.1f} us",
        f"{'to_mnist per 280x280 canvas':<44}{p['us_per_image_280x280']:>11.1f} us",
        f"{'peak RSS after loading the model':<44}{r['peak_rss_after_load_mib']:>10.1f} MiB",
        f"{'peak RSS at the end':<44}{r['peak_rss_mib']:>10.1f} MiB",
        "",
        f"{'batch':>7}{'ms/batch':>12}{'images/s':>12}{'passes':>8}",
        "-" * 39,
    ]
    lines += [f"{b['batch']:>7}{b['ms_per_batch']:>12.2f}{b['images_per_s']:>12.0f}"
              f"{b['passes']:>8}" for b in r["batches"]]
    lines.append(f"\n({s['calls']} single calls after {r['warmup']} warm-up; "
                 f"{k['calls']} model.predict calls)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run every measurement, print the table and optionally write JSON."""
    args = parse_args(argv)
    sizes = [int(s) for s in args.batch_sizes.split(",") if s.strip()]
    from shared.classifier import Classifier

    t0 = time.perf_counter()
    classifier = Classifier(args.model_dir, runtime=args.runtime)
    load_s = time.perf_counter() - t0
    rss_after_load = peak_rss_mib()
    digits, source = test_digits(args.data, max(args.preprocess_images, max(sizes, default=1)))

    results = {
        "model_dir": str(args.model_dir),
        "model_version": classifier.version,
        "runtime": classifier.runtime,
        "load_s": load_s,
        "peak_rss_after_load_mib": rss_after_load,
        "data": source,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
                   f"{platform.python_version()}",
        "warmup": args.warmup,
        "single": bench_single(classifier, digits, args.calls, args.warmup),
        "batches": bench_batches(classifier, digits, sizes, args.batch_seconds),
        "preprocess": bench_preprocess(digits[: args.preprocess_images]),
        "keras_predict": bench_keras_predict(classifier, digits, args.predict_calls),
    }
    if args.compare_dir is not None:
        results["compare"] = bench_compare(classifier, args.compare_dir, digits, args.calls,
                                           args.warmup, args.compare_runtime)
    if args.compare_runtimes:
        results["runtimes"] = bench_runtimes(args.model_dir, digits, args.calls, args.warmup)
    if args.onnx_threads:
        results["onnx_threads"] = bench_onnx_threads(args.model_dir, digits)
    results["peak_rss_mib"] = peak_rss_mib()
    print(report(results))
    if "runtimes" in results:
        print(comparison_report(results["runtimes"], "images a call", "runtime",
                                "tensorflow", "TF"))
    if "onnx_threads" in results:
        print(comparison_report(results["onnx_threads"], "rows a pass", "session",
                                "1 thread", "1"))
    if "compare" in results:
        c = results["compare"]
        print(f"single image p50: {c['p50_ms']:.3f} ms vs {c['other_p50_ms']:.3f} ms for "
              f"{c['other_dir']} (ratio {c['ratio']:.2f}, median of 5 interleaved rounds)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
