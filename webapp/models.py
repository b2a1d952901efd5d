"""Model versions: list them for everyone, activate (promote or roll back) for the admin."""

from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.exceptions import NotFound

from shared.model_store import StoreError
from webapp.auth import require_admin
from webapp.services import services, store

bp = Blueprint("models", __name__)


@bp.get("/api/models")
def models():  # type: ignore[no-untyped-def]
    """Every version with its metrics; `active` names the serving one."""
    rows = store().list()
    for row in rows:
        row.pop("history", None)
        row["status"] = "active" if row["active"] else row.get("status", "ready")
    return jsonify(active=store().active(), versions=rows)


@bp.post("/api/models/<int:version>/activate")
def activate(version: int):  # type: ignore[no-untyped-def]
    """Promote or roll back: move ACTIVE, then tell every worker and page."""
    require_admin()
    try:
        store().activate(version)
    except StoreError as exc:
        raise NotFound(str(exc)) from None
    services().announce_activation(version)
    return jsonify(active=version)
