"""Batches end to end: JSON and multipart submission, per-item errors, order, progress events."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
import requests
from PIL import Image

from devtools.batches import wait_batch_done
from devtools.sio import RecordingClient
from shared.mnist import load_mnist

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def mnist_test(mnist_dir):  # type: ignore[no-untyped-def]
    return load_mnist("test", mnist_dir)


def wait_done(url: str, batch_id: str, timeout: float = 60) -> dict:
    return wait_batch_done(url, batch_id, poll_s=0.2, timeout=timeout, results=True)


def png(digit: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(255 - digit).resize((84, 84)).save(buf, format="PNG")
    return buf.getvalue()


def test_json_batch_keeps_order_and_isolates_bad_items(stack, mnist_test) -> None:  # type: ignore[no-untyped-def]
    n = 600  # three chunks of up to 256
    items = [{"pixels": img.tolist()} for img in mnist_test.images[:n]]
    items[5] = {"pixels": [[float("nan")] * 9] * 9}
    items[300] = {"pixels": [[0] * 28] * 28}  # empty: an answer, not an error
    items.append({"image": "data:image/png;base64,AAAA"})  # corrupt
    items.append({"pixels": [[1] * 28] * 28, "extra": 1})  # unknown field
    client = RecordingClient(stack.url)
    try:
        body = json.dumps({"images": items})  # allow_nan: NaN goes over the wire as a client may
        resp = requests.post(f"{stack.url}/api/batches", data=body, timeout=60,
                             headers={"Content-Type": "application/json"})
        assert resp.status_code == 202, resp.text
        batch_id = resp.json()["batch_id"]
        assert resp.json()["total"] == n + 2
        client.sio.emit("subscribe", {"batch_id": batch_id})
        view = wait_done(stack.url, batch_id)
        assert view["status"] == "done" and view["done"] == view["total"] == n + 2
        assert [r["index"] for r in view["results"]] == list(range(n + 2))
        res = view["results"]
        assert "nan" in res[5]["error"].lower()
        assert res[300]["digit"] is None
        assert "corrupt" in res[n]["error"]
        assert "unknown field" in res[n + 1]["error"]
        good = [i for i in range(n) if i not in (5, 300)]
        right = sum(res[i]["digit"] == int(mnist_test.labels[i]) for i in good)
        assert right / len(good) >= 0.99
        progress = client.wait_for("batch_progress", lambda d: d["done"] == n + 2, timeout=10)
        assert progress["batch_id"] == batch_id
    finally:
        client.close()


def test_multipart_batch_of_pngs(stack, mnist_test) -> None:  # type: ignore[no-untyped-def]
    files = [("images", (f"d{i}.png", png(mnist_test.images[i]), "image/png")) for i in range(20)]
    files.append(("images", ("bad.png", b"\x89PNG\r\n\x1a\ngarbage", "image/png")))
    files.append(("images", ("notes.txt", b"hello", "text/plain")))
    resp = requests.post(f"{stack.url}/api/batches", files=files, timeout=60)
    assert resp.status_code == 202, resp.text
    view = wait_done(stack.url, resp.json()["batch_id"])
    res = view["results"]
    assert [r.get("digit") for r in res[:20]] == [int(x) for x in mnist_test.labels[:20]]
    assert "corrupt" in res[20]["error"]
    assert "not a PNG or JPEG" in res[21]["error"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [({"images": []}, "empty"), ({"images": "x"}, "list"), ({"imgs": []}, "unknown field")],
)
def test_bad_batch_requests(stack, body, needle) -> None:  # type: ignore[no-untyped-def]
    resp = requests.post(f"{stack.url}/api/batches", json=body, timeout=10)
    assert resp.status_code == 400
    assert needle in resp.json()["error"]


def test_unknown_batch_is_404(stack) -> None:  # type: ignore[no-untyped-def]
    resp = requests.get(f"{stack.url}/api/batches/nope", timeout=10)
    assert resp.status_code == 404


def test_submit_cli_prints_results_in_order(stack, mnist_test, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    for i in range(6):
        (tmp_path / f"{i:02d}.png").write_bytes(png(mnist_test.images[i]))
    np.save(tmp_path / "06.npy", mnist_test.images[6])
    (tmp_path / "07.npy").write_bytes(b"not a numpy file")
    out = subprocess.run(
        [sys.executable, "-m", "cli.main", "submit", str(tmp_path), "--server", stack.url,
         "--json"], capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 1, out.stderr  # one file could not be read
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["digit"] for r in rows[:7]] == [int(x) for x in mnist_test.labels[:7]]
    assert rows[0]["file"].endswith("00.png")
    assert rows[7]["file"].endswith("07.npy") and "cannot read" in rows[7]["error"]


def test_data_url_items_in_json_batches(stack, mnist_test) -> None:  # type: ignore[no-untyped-def]
    url = "data:image/png;base64," + base64.b64encode(png(mnist_test.images[9])).decode()
    resp = requests.post(f"{stack.url}/api/batches", json={"images": [{"image": url}]},
                         timeout=10)
    view = wait_done(stack.url, resp.json()["batch_id"])
    assert view["results"][0]["digit"] == int(mnist_test.labels[9])
