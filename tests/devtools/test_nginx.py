"""devtools/nginx.py runs the deployed nginx config on loopback: only the lines it must change
are changed, a drifted deploy/nginx.conf fails loudly, and real nginx accepts the result."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.nginx import DEPLOY_CONF, check_config, loopback_config

PORTS = [41001, 41002]
REWRITTEN = ("user ", "worker_processes ", "worker_rlimit_nofile ", "pid ", "error_log ",
             "access_log ", "listen ", "server web:5000 ")


def test_loopback_config_changes_only_paths_ports_and_upstreams(tmp_path: Path) -> None:
    text = loopback_config(PORTS, 40999, tmp_path)
    kept = [line for line in DEPLOY_CONF.read_text().splitlines()
            if not line.strip().startswith(REWRITTEN)]
    lines = text.splitlines()
    assert [line for line in lines if line in kept] == kept  # everything else, in order
    assert "        listen 127.0.0.1:40999;" in lines
    for port in PORTS:  # both upstream groups list every web process
        assert text.count(f"server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;") == 2
    directives = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    assert "web:5000" not in directives and "/var/" not in directives
    assert not any(line.startswith("user ") for line in lines)


@pytest.mark.parametrize("directive", ["listen 80;", "server web:5000", "pid "])
def test_a_drifted_deploy_config_is_refused(tmp_path: Path, directive: str) -> None:
    source = DEPLOY_CONF.read_text().replace(directive, "# " + directive)
    with pytest.raises(ValueError, match="deploy/nginx.conf"):
        loopback_config(PORTS, 40999, tmp_path, source=source)


def test_real_nginx_accepts_the_loopback_config(tmp_path: Path) -> None:
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / "temp" / name).mkdir(parents=True)
    result = check_config(loopback_config(PORTS, 40999, tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
