"""The HTML pages; all their assets are served locally from webapp/static."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> str:
    """The live drawing page."""
    return render_template("index.html")


@bp.get("/batch")
def batch() -> str:
    """The batch upload page."""
    return render_template("batch.html")
