"""`digitflow models` and `digitflow activate`: read and move the store's ACTIVE pointer."""

from __future__ import annotations

import logging

from shared.model_store import ModelStore, StoreError
from shared.settings import get_settings

log = logging.getLogger(__name__)


def list_models() -> int:
    """Print the versions with their accuracy and status; `*` marks the active one."""
    store = ModelStore(get_settings().model_store)
    rows = store.list()
    if not rows:
        print(f"no model versions in {store.url} yet (the first worker or `predict` seeds one)")
        return 0
    print(f"{'':2}{'version':>7}  {'accuracy':>8}  {'status':<9} {'created':<25} source")
    for row in rows:
        acc = row.get("test_accuracy")
        acc_s = f"{acc:.2%}" if isinstance(acc, float) else "?"
        status = "active" if row["active"] else row.get("status", "ready")
        source = row.get("source") or row.get("reason") or ""
        print(f"{'*' if row['active'] else '':2}{row['version']:>7}  {acc_s:>8}  {status:<9} "
              f"{row.get('created', ''):<25} {source}")
    return 0


def activate(version: int) -> int:
    """Move ACTIVE to `version`, then tell running workers and pages if Redis is reachable."""
    settings = get_settings()
    try:
        ModelStore(settings.model_store).activate(version)
    except StoreError as exc:
        print(f"error: {exc}")
        return 2
    from cli.embedded_redis import redis_reachable

    url = settings.redis_url
    if redis_reachable(url):
        from shared.events import announce_activation

        announce_activation(url, version)
        print(f"version {version} is active; workers at {url} were notified")
    else:
        print(f"version {version} is active; no Redis at {url}, so running workers will "
              "pick it up at their next version check")
    return 0
