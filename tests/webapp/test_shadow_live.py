"""Shadow mode end to end: real Redis, a real Celery worker, the real Flask-SocketIO server
and Socket.IO clients. An admin's frames are answered by the active version and the shadow
version (a real model that answers d+1 for d, so each answer shows which model gave it)."""

from __future__ import annotations

import numpy as np
import pytest
import requests

from devtools.sio import RecordingClient
from shared.mnist import load_mnist
from shared.model_store import ModelStore
from tests.webapp.conftest import ADMIN_TOKEN, AUTH, ShadowSystem

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def digits(mnist_dir):  # type: ignore[no-untyped-def]
    test = load_mnist("test", mnist_dir)
    return test.images[:30], test.labels[:30]


@pytest.fixture()
def admin(shadow_system: ShadowSystem):  # type: ignore[no-untyped-def]
    c = RecordingClient(shadow_system.stack.url, auth={"token": ADMIN_TOKEN})
    yield c
    c.close()


def test_an_admin_gets_both_answers_each_with_its_version(
        admin: RecordingClient, shadow_system: ShadowSystem, digits) -> None:  # type: ignore[no-untyped-def]
    admin.sio.emit("shadow", {"version": shadow_system.shifted})
    assert admin.wait_for("shadow") == {"version": shadow_system.shifted}
    images, labels = digits
    for seq, (img, label) in enumerate(zip(images[:10], labels[:10], strict=True), start=1):
        admin.draw(img.tolist(), seq)
        pred = admin.wait_for("prediction", lambda d, s=seq: d["seq"] == s, timeout=60)
        shadow = pred["shadow"]
        assert pred["model_version"] == shadow_system.active
        assert shadow["model_version"] == shadow_system.shifted
        assert pred["digit"] == int(label)
        assert shadow["digit"] == (pred["digit"] + 1) % 10
        assert len(shadow["probabilities"]) == 10 and "confidence" in shadow


def test_explain_and_shadow_together(admin: RecordingClient, shadow_system: ShadowSystem,
                                     digits) -> None:  # type: ignore[no-untyped-def]
    admin.sio.emit("shadow", {"version": shadow_system.shifted})
    admin.wait_for("shadow")
    images, labels = digits
    admin.draw(images[0].tolist(), 1, explain=True)
    pred = admin.wait_for("prediction", lambda d: d["seq"] == 1, timeout=60)
    assert np.asarray(pred["saliency"]).shape == (28, 28)
    assert pred["digit"] == int(labels[0])
    assert pred["shadow"]["digit"] == (int(labels[0]) + 1) % 10
    assert "saliency" not in pred["shadow"]


def test_clearing_the_shadow_and_other_clients_get_one_answer(
        admin: RecordingClient, shadow_system: ShadowSystem, digits) -> None:  # type: ignore[no-untyped-def]
    images, _ = digits
    other = RecordingClient(shadow_system.stack.url)
    try:
        admin.sio.emit("shadow", {"version": shadow_system.shifted})
        admin.wait_for("shadow")
        other.draw(images[1].tolist(), 1)
        assert "shadow" not in other.wait_for("prediction", timeout=60)
        admin.sio.emit("shadow", {"version": None})
        admin.wait_for("shadow", lambda d: d["version"] is None)
        admin.draw(images[1].tolist(), 2)
        assert "shadow" not in admin.wait_for("prediction", lambda d: d["seq"] == 2, timeout=60)
    finally:
        other.close()


def test_a_non_admin_is_refused(shadow_system: ShadowSystem) -> None:
    for auth in (None, {"token": "wrong"}):
        c = RecordingClient(shadow_system.stack.url, auth=auth)
        try:
            c.sio.emit("shadow", {"version": shadow_system.shifted})
            assert "shadow mode is for the admin" in c.wait_for("error")["error"]
            assert c.of("shadow") == []
        finally:
            c.close()


def test_an_unknown_version_is_refused(admin: RecordingClient) -> None:
    admin.sio.emit("shadow", {"version": 999})
    assert "no published model version 999" in admin.wait_for("error")["error"]
    assert admin.of("shadow") == []


def test_disagreements_on_the_newest_feedback(shadow_system: ShadowSystem, digits) -> None:  # type: ignore[no-untyped-def]
    url = shadow_system.stack.url
    images, labels = digits
    for img, label in zip(images[10:30], labels[10:30], strict=True):
        resp = requests.post(f"{url}/api/feedback",
                             json={"pixels": img.tolist(), "label": int(label)}, timeout=10)
        assert resp.status_code == 201, resp.text
    same = requests.get(f"{url}/api/admin/shadow/disagreements",
                        params={"version": shadow_system.active, "last": 20}, headers=AUTH,
                        timeout=90)
    assert same.status_code == 200 and same.json()["disagree"] == 0  # a version vs itself
    resp = requests.get(f"{url}/api/admin/shadow/disagreements",
                        params={"version": shadow_system.shifted, "last": 15}, headers=AUTH,
                        timeout=90)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["compared"] == 15 and body["disagree"] == 15
    assert (body["version"], body["active_version"]) == (shadow_system.shifted,
                                                         shadow_system.active)
    newest_first = [int(x) for x in labels[10:30][::-1][:15]]
    for item in body["items"]:
        assert item["label"] == newest_first[item["index"]]
        assert item["active"]["digit"] == item["label"]
        assert item["shadow"]["digit"] == (item["label"] + 1) % 10
        assert len(item["image28_b64"]) == 1048  # 784 bytes in base64
    refused = requests.get(f"{url}/api/admin/shadow/disagreements",
                           params={"version": shadow_system.shifted}, timeout=10)
    assert refused.status_code == 401


def test_a_shadow_that_cannot_load_costs_only_the_shadow_part(
        admin: RecordingClient, shadow_system: ShadowSystem, digits, tmp_path) -> None:  # type: ignore[no-untyped-def]
    broken_file = tmp_path / "broken.keras"
    broken_file.write_bytes(b"not a model")
    broken = ModelStore(shadow_system.stack.store).publish(broken_file, {"source": "broken"})
    admin.sio.emit("shadow", {"version": broken})
    admin.wait_for("shadow", lambda d: d["version"] == broken)
    images, labels = digits
    admin.draw(images[2].tolist(), 1)
    pred = admin.wait_for("prediction", lambda d: d["seq"] == 1, timeout=60)
    assert pred["digit"] == int(labels[2]) and pred["model_version"] == shadow_system.active
    assert pred["shadow"] == {"error": f"shadow version {broken} could not be loaded",
                              "model_version": broken}
    resp = requests.get(f"{shadow_system.stack.url}/api/admin/shadow/disagreements",
                        params={"version": broken}, headers=AUTH, timeout=90)
    assert resp.status_code == 502 and "could not be loaded" in resp.json()["error"]
    admin.sio.emit("shadow", {"version": shadow_system.shifted})  # the worker still serves
    admin.wait_for("shadow", lambda d: d["version"] == shadow_system.shifted)
    admin.draw(images[2].tolist(), 2)
    pred = admin.wait_for("prediction", lambda d: d["seq"] == 2, timeout=60)
    assert pred["shadow"]["digit"] == (int(labels[2]) + 1) % 10
