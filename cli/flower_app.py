"""The module `celery -A cli.flower_app flower` points at: the one Celery app, built from
Settings as every process builds it (Flask's `make_celery.py` pattern).

Flower then reads the broker from this app's configuration, so the Redis URL (and its
password) travels in the environment, never on a command line that `ps` shows.
"""

from __future__ import annotations

from shared.celery_app import make_celery
from shared.settings import get_settings

app = make_celery(get_settings())
