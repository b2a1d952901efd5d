"""The batch page and the drawing page's admin panel in real headless Chromium.

Runs against the fully running system from the `stack` fixture (tests/conftest.py): web
server, Redis and one inference worker with the bundled model (no trainer).

1. /batch: upload real MNIST test digits as black-on-white enlarged PNGs plus one corrupt
   PNG, wait for every result, check each digit against its MNIST label, and check the
   CSV/JSON downloads.
2. / admin panel: list the models, publish a second version straight into the store,
   activate it from the page and see `#version` follow (on this page and, through the
   `model_activated` Socket.IO event only, on a second open page); then roll back to v1
   through the API. Version 1 is left active whatever happens.

Needs the Debian Chromium at /usr/bin/chromium; never `playwright install`.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image
from playwright import sync_api

from shared.mnist import load_mnist
from shared.model_store import BUNDLED_DIR, MODEL_FILE, ModelStore
from tests.utils.browser import open_page

pytestmark = pytest.mark.browser
expect = sync_api.expect

ADMIN_TOKEN = "test-admin-token"
TIMEOUT_MS = 20_000
N_PER_DIGIT = {d: 1 for d in range(10)} | {7: 2, 1: 2}  # 12 digits, every class at least once
CORRUPT = "scan-corrupt.png"


# ------------------------------------------------------------------ fixtures


def as_scan(digit28: np.ndarray) -> Image.Image:
    """An MNIST digit as a user's image file: black ink on white paper, enlarged 5x."""
    paper = Image.fromarray((255 - digit28).astype(np.uint8))
    big = paper.resize((140, 140), Image.Resampling.BILINEAR)
    sheet = Image.new("L", (180, 180), 255)  # a white margin round the digit
    sheet.paste(big, (20, 20))
    return sheet


@pytest.fixture
def digit_files(mnist_dir: Path, tmp_path: Path) -> tuple[list[Path], dict[str, int]]:
    """~12 PNGs of real MNIST test digits (label by file name) plus one truncated PNG."""
    test = load_mnist("test", mnist_dir)
    wanted = dict(N_PER_DIGIT)
    files: list[Path] = []
    labels: dict[str, int] = {}
    for i, label in enumerate(test.labels.tolist()):
        if wanted.get(label, 0) <= 0:
            continue
        wanted[label] -= 1
        path = tmp_path / f"mnist-test-{i:05d}.png"
        as_scan(test.images[i]).save(path)
        files.append(path)
        labels[path.name] = label
        if not any(wanted.values()):
            break
    # A real PNG cut short, as from an interrupted copy: it passes the server's PNG magic
    # check, so the worker must report it as a per-item error while the rest go on.
    whole = files[0].read_bytes()
    corrupt = tmp_path / CORRUPT
    corrupt.write_bytes(whole[: len(whole) // 3])
    # The corrupt file goes in the middle so index mix-ups would show.
    files.insert(len(files) // 2, corrupt)
    return files, labels


def api_models(stack) -> dict:
    res = requests.get(f"{stack.url}/api/models", timeout=10)
    res.raise_for_status()
    return res.json()


def activate_via_api(stack, version: int) -> None:
    res = requests.post(f"{stack.url}/api/models/{version}/activate",
                        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)
    assert res.status_code == 200, (res.status_code, res.text)


def wait_worker_serves(stack, version: int, timeout: float = 60.0) -> None:
    """Wait until a real prediction comes back from `version`, so later tests see it."""
    pixels = np.zeros((28, 28), dtype=int)
    pixels[4:24, 13:15] = 255  # a "1"
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            res = requests.post(f"{stack.url}/api/predict", json={"pixels": pixels.tolist()},
                                timeout=15)
            last = res.json()
            if res.ok and last.get("model_version") == version:
                return
        except requests.RequestException as exc:
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"the worker did not serve v{version} within {timeout}s: {last}")


# ------------------------------------------------------------------ batch page
def test_batch_page_classifies_uploaded_files_and_downloads(stack, browser, page_errors,
                                                            digit_files, tmp_path):
    files, labels = digit_files
    n = len(files)
    names = [f.name for f in files]
    context, page = open_page(browser, stack.url + "/batch", page_errors,
                              viewport={"width": 1200, "height": 900}, accept_downloads=True)
    try:
        expect(page.locator("#conn")).to_have_text("connected", timeout=TIMEOUT_MS)
        expect(page.locator("#download-csv")).to_be_disabled()
        expect(page.locator("#download-json")).to_be_disabled()

        page.set_input_files("#files", [str(f) for f in files])

        rows = page.locator("#results tbody tr")
        expect(rows).to_have_count(n, timeout=TIMEOUT_MS)
        # Completion: the progress bar is full and the status line says done.
        page.wait_for_function(
            """() => {
                const p = document.querySelector('#progress');
                return p.max > 1 && p.value === p.max &&
                       document.querySelector('#batch-status').textContent.startsWith('Done');
            }""",
            timeout=TIMEOUT_MS,
        )
        progress = page.locator("#progress").evaluate("p => [p.value, p.max]")
        assert progress == [n, n], f"#progress should read {n}/{n}, got {progress}"
        status = page.locator("#batch-status").inner_text()
        assert status == f"Done: {n} images, 1 could not be classified.", status
        expect(rows).to_have_count(n)

        table = page.locator("#results tbody tr").evaluate_all(
            """trs => trs.map(tr => ({
                cells: Array.from(tr.cells).filter(c => !c.hidden).map(c => c.textContent),
                digitClass: tr.cells[3].className,
                thumbLoaded: tr.querySelector('img.thumb') !== null,
            }))"""
        )
        shown_names = [r["cells"][2] for r in table]
        assert shown_names == names, "rows are not in upload order"
        wrong = []
        for i, (name, row) in enumerate(zip(names, table, strict=True)):
            assert row["cells"][0] == str(i)
            assert row["thumbLoaded"], f"row {i} has no thumbnail"
            if name == CORRUPT:
                assert row["digitClass"] == "err", f"corrupt file row: {row}"
                assert re.search(r"corrupt|not a PNG", row["cells"][3], re.I), row
                continue
            assert row["digitClass"] == "big-digit", f"{name}: {row}"
            assert re.fullmatch(r"\d+\.\d%", row["cells"][4]), f"{name}: confidence {row}"
            if row["cells"][3] != str(labels[name]):
                wrong.append((name, labels[name], row["cells"][3]))
        assert not wrong, f"misread digits (file, MNIST label, shown): {wrong}"

        # ---- CSV download
        expect(page.locator("#download-csv")).to_be_enabled()
        with page.expect_download() as info:
            page.click("#download-csv")
        csv_path = tmp_path / "out.csv"
        info.value.save_as(csv_path)
        assert info.value.suggested_filename.endswith(".csv")
        text = csv_path.read_text()
        lines = text.splitlines()
        assert lines[0] == "index,file,digit,confidence,error"
        assert len(lines) == n + 1, f"CSV has {len(lines)} lines for {n} files:\n{text}"
        records = list(csv.DictReader(io.StringIO(text)))
        assert [r["file"] for r in records] == names
        for r in records:
            if r["file"] == CORRUPT:
                assert r["digit"] == "" and r["error"], r
            else:
                assert r["digit"] == str(labels[r["file"]]) and r["error"] == "", r
                assert 0.0 < float(r["confidence"]) <= 1.0, r

        # ---- JSON download
        with page.expect_download() as info:
            page.click("#download-json")
        json_path = tmp_path / "out.json"
        info.value.save_as(json_path)
        assert info.value.suggested_filename.endswith(".json")
        doc = json.loads(json_path.read_text())
        batch_id = page.evaluate("window.digitflowBatch.batchId")
        assert doc["batch_id"] == batch_id and batch_id
        assert len(doc["results"]) == n
        assert [r["file"] for r in doc["results"]] == names
        for r in doc["results"]:
            if r["file"] == CORRUPT:
                assert r["digit"] is None and r["error"], r
            else:
                assert r["digit"] == labels[r["file"]] and r["error"] is None, r
                assert isinstance(r["model_version"], int), r
                assert len(r["probabilities"]) == 10, r

        assert not page_errors, f"JavaScript errors on the page: {page_errors}"
    finally:
        context.close()


# ------------------------------------------------------------------ admin panel
def test_admin_panel_lists_and_activates_models(stack, browser, page_errors):
    before = api_models(stack)
    assert before["active"] == 1, f"the suite expects v1 active at the start: {before}"
    ctx_admin = ctx_watch = None
    try:
        ctx_admin, page = open_page(browser, stack.url + "/", page_errors,
                                    viewport={"width": 1200, "height": 1000})
        # A second, passive page: it can only learn of the activation from the
        # `model_activated` Socket.IO event (the admin page also sets it from the reply).
        ctx_watch, watcher = open_page(browser, stack.url + "/", page_errors)
        for p in (page, watcher):
            expect(p.locator("#conn")).to_have_text("connected", timeout=TIMEOUT_MS)
            expect(p.locator("#version")).to_have_text("v1", timeout=TIMEOUT_MS)

        page.click("#admin > summary")
        expect(page.locator("#admin")).to_have_attribute("open", "")
        page.fill("#token", ADMIN_TOKEN)
        models = page.locator("#models tbody tr")
        v1_row = models.filter(has=page.locator("td:first-child", has_text=re.compile(r"^v1$")))
        expect(v1_row).to_have_count(1, timeout=TIMEOUT_MS)
        expect(v1_row.locator(".badge")).to_have_text("active")
        expect(v1_row.locator("button")).to_be_disabled()

        new = ModelStore(stack.store).publish(
            BUNDLED_DIR / MODEL_FILE, {"test_accuracy": 0.99, "source": "browser test"}
        )
        assert new >= 2
        page.click("#models-refresh")
        new_row = models.filter(
            has=page.locator("td:first-child", has_text=re.compile(rf"^v{new}$")))
        expect(new_row).to_have_count(1, timeout=TIMEOUT_MS)
        expect(new_row.locator("td").nth(1)).to_have_text("99.00%")
        expect(new_row.locator("button")).to_have_text("activate")
        expect(new_row.locator("button")).to_be_enabled()

        new_row.locator("button").click()
        expect(page.locator("#version")).to_have_text(f"v{new}", timeout=TIMEOUT_MS)
        expect(watcher.locator("#version")).to_have_text(f"v{new}", timeout=TIMEOUT_MS)
        expect(watcher.locator("#notice")).to_have_text(f"Model v{new} is now live")
        expect(page.locator("#models-status")).to_have_text(f"v{new} is active.",
                                                            timeout=TIMEOUT_MS)
        expect(new_row.locator(".badge")).to_have_text("active")
        expect(v1_row.locator("button")).to_have_text("activate")
        after = api_models(stack)
        assert after["active"] == new, after
        assert [v["version"] for v in after["versions"] if v["status"] == "active"] == [new]

        # Roll back through the API: both pages follow through the event alone.
        activate_via_api(stack, 1)
        for p in (page, watcher):
            expect(p.locator("#version")).to_have_text("v1", timeout=TIMEOUT_MS)
        # The open admin panel reloads its list on the event.
        expect(v1_row.locator(".badge")).to_have_text("active", timeout=TIMEOUT_MS)
        assert not page_errors, f"JavaScript errors on the pages: {page_errors}"
    finally:
        for ctx in (ctx_admin, ctx_watch):
            if ctx is not None:
                ctx.close()
        # Whatever happened above, leave v1 active and served for the rest of the suite.
        if api_models(stack)["active"] != 1:
            activate_via_api(stack, 1)
        wait_worker_serves(stack, 1)
    assert api_models(stack)["active"] == 1
