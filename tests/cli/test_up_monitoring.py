"""What `digitflow up` adds for monitoring: a metrics port per worker and Flower on request."""

from __future__ import annotations

from cli.main import build_parser
from cli.up import _plan


def test_each_worker_gets_its_own_metrics_port() -> None:
    children = _plan(5000, 2, "127.0.0.1", metrics_base=9100)
    ports = {c.name: c.env.get("WORKER_METRICS_PORT") for c in children}
    assert ports == {"worker1": "9100", "batch1": "9101", "worker2": "9102", "batch2": "9103",
                     "trainer": None, "web": None}


def test_no_metrics_port_and_no_flower_by_default() -> None:
    children = _plan(5000, 2, "127.0.0.1")
    assert [c.name for c in children] == ["worker1", "batch1", "worker2", "batch2", "trainer",
                                          "web"]
    assert all(c.env == {} for c in children)


def test_flower_binds_loopback_and_keeps_secrets_off_its_command_line() -> None:
    children = _plan(5000, 1, "0.0.0.0", flower_port=5555, admin_token="s3cret-token")
    flower = children[-1]
    assert flower.name == "flower"
    assert "--address=127.0.0.1" in flower.argv and "--port=5555" in flower.argv
    assert flower.argv[flower.argv.index("-A") + 1] == "cli.flower_app"
    assert not any("s3cret" in a or "redis://" in a for a in flower.argv)
    assert flower.env == {"FLOWER_BASIC_AUTH": "admin:s3cret-token"}


def test_up_takes_flower_flag() -> None:
    assert build_parser().parse_args(["up", "--flower"]).flower
    assert not build_parser().parse_args(["up"]).flower
