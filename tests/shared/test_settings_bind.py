"""The bind rule (issue 9): a server on a non-loopback address runs in production mode only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.settings import Settings, check_bind, is_loopback

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_addresses(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.10", "example.org"])
def test_everything_else_counts_as_public(host: str) -> None:
    assert not is_loopback(host)


def test_development_may_bind_loopback_only() -> None:
    dev = Settings(env="development", _env_file=None)  # type: ignore[call-arg]
    check_bind("127.0.0.1", dev)
    with pytest.raises(ValueError, match="ENV=production"):
        check_bind("0.0.0.0", dev)
    staging = Settings(env="staging", admin_token="s3cret", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="non-loopback"):
        check_bind("10.0.0.5", staging)


def test_production_may_bind_anywhere_and_never_with_the_default_token() -> None:
    prod = Settings(env="production", admin_token="s3cret", _env_file=None)  # type: ignore[call-arg]
    check_bind("0.0.0.0", prod)
    with pytest.raises(ValueError, match="ADMIN_TOKEN"):
        Settings(env="production", _env_file=None)  # type: ignore[call-arg]


def test_the_web_command_refuses_a_public_bind_in_development(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("ENV", "ADMIN_TOKEN", "HOST")}
    env["PYTHONPATH"] = str(REPO)
    run = subprocess.run(
        [sys.executable, "-m", "cli.main", "web", "--host", "0.0.0.0", "--port", "1"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 2
    assert "needs ENV=production" in run.stderr
