"""`digitflow`: one entry point for every role and tool. Heavy imports happen per command."""

from __future__ import annotations

import argparse
import logging
import os
import sys


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def build_parser() -> argparse.ArgumentParser:
    """Declare every subcommand; see ../shared/docs/interface.md for the contract."""
    p = argparse.ArgumentParser(
        prog="digitflow",
        description="Live hand-drawn digit recognition on a Redis/Celery queue.",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="start Redis (embedded if needed), workers, trainer and web")
    up.add_argument("--port", type=int, default=None, help="web port (default $PORT or 5000)")
    up.add_argument("--host", default=None, help="web bind address (default 127.0.0.1)")
    up.add_argument("--workers", type=int, default=1,
                    help="inference worker slots, each a live and a batch worker (default 1)")
    up.add_argument("--flower", action="store_true",
                    help="also start Flower on 127.0.0.1:$FLOWER_PORT (default 5555)")

    web = sub.add_parser("web", help="run the Flask-SocketIO web server")
    web.add_argument("--port", type=int, default=None, help="default $PORT or 5000")
    web.add_argument("--host", default=None, help="default 127.0.0.1")

    wk = sub.add_parser("worker", help="run one Celery inference worker (queues live, batch)")
    wk.add_argument("--concurrency", type=int, default=8,
                    help="task threads feeding the shared micro-batcher (default 8)")
    wk.add_argument("--name", default=None, help="Celery node name, e.g. worker1@%%h")
    wk.add_argument("--queues", default="live,batch",
                    help="live, batch, or live,batch (default; live is always served first)")

    tr = sub.add_parser("trainer", help="run the Celery trainer (queue 'training', concurrency 1)")
    tr.add_argument("--name", default=None, help="Celery node name")

    train = sub.add_parser("train", help="train a model in-process and publish it")
    train.add_argument("--data", default=None,
                       help="data root with mnist/ usps/ pendigits/ subfolders, or an MNIST "
                            "folder (default $MNIST_DIR; also $USPS_DIR, $PENDIGITS_DIR)")
    train.add_argument("--epochs", type=int, default=None, help="epochs (default: the recipe's)")
    train.add_argument("--limit", type=int, default=None,
                       help="train on the first N items of each source and test on the first "
                            "1000 (smoke tests)")
    train.add_argument("--mode", choices=["scratch", "finetune"], default="scratch",
                       help="from random weights (default) or from the active version")
    train.add_argument("--without", action="append", default=[], metavar="SOURCE",
                       choices=["mnist", "usps", "pendigits"], help="leave a data source out")
    train.add_argument("--phase1-from", default=None, metavar="DIR",
                       help="a model folder that already is phase 1 (MNIST alone, e.g. the "
                            "pre-issue-10 bundled model): train only phase 2 on top of it")
    train.add_argument("--out", default="var/plots", help="where to save the plots")
    train.add_argument("--activate", choices=["gate", "always", "never"], default="gate",
                       help="activate if no set is worse than the active version beyond its "
                            "binomial noise (default), always, never")

    pr = sub.add_parser("predict", help="classify PNG/JPEG/.npy files locally, no server")
    pr.add_argument("files", nargs="+", metavar="FILE")
    pr.add_argument("--json", action="store_true", help="one JSON object per line and file")
    pr.add_argument("--number", action="store_true",
                    help="read each file as a whole number (several digits, left to right)")
    pr.add_argument("--model", type=int, default=None, help="version (default: active)")

    sb = sub.add_parser("submit", help="batch-submit files or folders through the API")
    sb.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    sb.add_argument("--server", default="http://127.0.0.1:5000", help="digitflow web URL")
    sb.add_argument("--json", action="store_true", help="print results as JSON lines")

    sub.add_parser("models", help="list model versions (the active one is marked)")
    act = sub.add_parser("activate", help="make VERSION the active model (promote or roll back)")
    act.add_argument("version", type=int)

    ev = sub.add_parser("eval", help="accuracy per set and per class, confusion and miss plots")
    ev.add_argument("--data", default=None, help="data root or MNIST folder, as for train")
    ev.add_argument("--model", type=int, default=None, help="version (default: active)")
    ev.add_argument("--out", default="var/plots", help="where to save the PNGs")
    ev.add_argument("--without", action="append", default=[], metavar="SOURCE",
                    choices=["mnist", "usps", "pendigits"], help="leave a data source out")
    ev.add_argument("--pendigits-kfold", action="store_true",
                    help="also train one model per pendigits writer fold (slow) and report "
                         "the held-out figure")
    ev.add_argument("--folds", type=int, default=5, help="writer folds (default 5)")
    ev.add_argument("--epochs", type=int, default=None, help="phase-1 epochs per fold model")
    ev.add_argument("--phase1-from", default=None, metavar="DIR",
                    help="phase-1 weights shared by every fold (as for train)")
    ev.add_argument("--limit", type=int, default=None,
                    help="score the first 1000 of each set and train folds on N (smoke tests)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command; returns the process exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "web":  # before importing webapp: see webapp/server.py
        from gevent import monkey

        monkey.patch_all()
    _setup_logging(args.verbose)
    cmd = args.command
    if cmd in ("up", "web"):
        from shared.settings import check_bind, get_settings

        s = get_settings()
        try:
            check_bind(args.host or s.host, s)
        except ValueError as exc:
            print(f"digitflow {cmd}: {exc}", file=sys.stderr)
            return 2
    if cmd == "up":
        from cli.up import run_up

        return run_up(port=args.port or s.port, workers=args.workers, host=args.host or s.host,
                      flower=args.flower)
    if cmd == "web":
        from webapp.server import serve

        return serve(port=args.port, host=args.host)
    if cmd == "worker":
        from worker.run import run_worker

        return run_worker(concurrency=args.concurrency, name=args.name, queues=args.queues)
    if cmd == "trainer":
        from trainer.run import run_trainer

        return run_trainer(name=args.name)
    if cmd == "train":
        from cli.train_cmd import train

        return train(data=args.data, epochs=args.epochs, limit=args.limit, out=args.out,
                     activate=args.activate, mode=args.mode, off=args.without,
                     phase1_from=args.phase1_from)
    if cmd == "eval":
        from cli.train_cmd import evaluate

        return evaluate(data=args.data, version=args.model, out=args.out,
                        kfold=args.pendigits_kfold, folds=args.folds, epochs=args.epochs,
                        off=args.without, limit=args.limit, phase1_from=args.phase1_from)
    if cmd == "predict":
        from cli.predict_cmd import predict

        return predict(args.files, as_json=args.json, version=args.model, number=args.number)
    if cmd == "submit":
        from cli.submit_cmd import submit

        return submit(args.paths, server=args.server, as_json=args.json)
    if cmd in ("models", "activate"):
        from cli.models_cmd import activate, list_models

        return list_models() if cmd == "models" else activate(args.version)
    raise AssertionError(cmd)


if __name__ == "__main__":
    sys.exit(main())
