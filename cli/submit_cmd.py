"""`digitflow submit`: send files or folders as one batch through the API, with progress."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import requests
from tqdm import tqdm

from cli.rows import format_row
from shared.wire import image_item

SUFFIXES = {".png", ".jpg", ".jpeg", ".npy"}


def collect(paths: list[str]) -> list[Path]:
    """Files given directly, plus every image/.npy file under given folders (sorted)."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(f for f in p.rglob("*") if f.suffix.lower() in SUFFIXES)
        else:
            found.append(p)
    return found


def read_items(files: list[Path]) -> tuple[list[dict], dict[int, str]]:
    """API items for the readable files, and a local error for each unreadable one."""
    items: list[dict] = []
    errors: dict[int, str] = {}
    for i, f in enumerate(files):
        try:
            if f.suffix.lower() == ".npy":
                items.append({"pixels": np.load(f, allow_pickle=False).tolist()})
            else:
                items.append(image_item(f.read_bytes()))
        except (OSError, ValueError) as exc:
            errors[i] = f"cannot read {f}: {exc}"
    return items, errors


def submit(paths: list[str], server: str, as_json: bool = False) -> int:
    """Upload, follow progress with a bar, then print the results in submission order."""
    files = collect(paths)
    if not files:
        print("error: no PNG/JPEG/.npy files found", file=sys.stderr)
        return 2
    server = server.rstrip("/")
    items, local_errors = read_items(files)
    sent = [i for i in range(len(files)) if i not in local_errors]  # API index -> position
    if not items:
        for i in local_errors:
            print(format_row({"file": str(files[i]), "error": local_errors[i]}, as_json))
        return 1
    try:
        resp = requests.post(f"{server}/api/batches", json={"images": items}, timeout=300)
    except requests.ConnectionError:
        print(f"error: no digitflow server at {server} (start one with `digitflow up`)",
              file=sys.stderr)
        return 2
    if resp.status_code != 202:
        print(f"error: {resp.status_code} {resp.json().get('error', resp.text)}", file=sys.stderr)
        return 1
    batch_id, total = resp.json()["batch_id"], resp.json()["total"]
    with tqdm(total=total, desc=f"batch {batch_id[:8]}", unit="img", file=sys.stderr) as bar:
        while True:
            view = requests.get(f"{server}/api/batches/{batch_id}?results=0", timeout=30).json()
            bar.update(view["done"] - bar.n)
            if view["status"] in ("done", "failed"):
                break
            time.sleep(0.3)
    view = requests.get(f"{server}/api/batches/{batch_id}", timeout=60).json()
    by_position = {sent[r.pop("index")]: r for r in view["results"]}
    for i, f in enumerate(files):  # in the order given, unreadable files included
        row = {"file": str(f), **({"error": local_errors[i]} if i in local_errors
                                  else by_position[i])}
        print(format_row(row, as_json))
    return 0 if view["status"] == "done" and not local_errors else 1

