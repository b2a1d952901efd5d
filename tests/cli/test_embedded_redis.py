"""The embedded redis-server is real, loopback-only, keeps its data where told and never leaks."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import redis

from cli.embedded_redis import RedisServer, find_redis_server, free_port, redis_reachable


def _pid_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_find_redis_server_returns_an_executable() -> None:
    binary = find_redis_server()
    assert os.path.isfile(binary) and os.access(binary, os.X_OK)


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_redis_reachable_is_false_for_a_closed_port() -> None:
    assert redis_reachable(f"redis://127.0.0.1:{free_port()}/0", timeout=0.2) is False
    assert redis_reachable("not a url") is False


def test_real_server_roundtrip_loopback_only_and_clean_stop(tmp_path: Path) -> None:
    data_dir = tmp_path / "redis-data"
    port = free_port()
    server = RedisServer(port=port, data_dir=data_dir)
    assert server.url == f"redis://127.0.0.1:{port}/0"
    with server:
        pid = server.pid
        assert pid is not None and _pid_alive(pid)
        assert redis_reachable(server.url)
        client = redis.Redis.from_url(server.url)
        assert client.set("digit", "7")
        assert client.get("digit") == b"7"
        assert client.config_get("bind") == {"bind": "127.0.0.1"}
        assert client.config_get("port") == {"port": str(port)}
        assert Path(client.config_get("dir")["dir"]) == data_dir.resolve()
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        client.close()
    assert not _pid_alive(pid)
    assert not redis_reachable(server.url, timeout=0.2)
    assert (data_dir / "appendonly.aof").is_file()
    assert any(p.name.endswith(".log") for p in data_dir.iterdir())
    server.stop()  # idempotent


def test_data_survives_a_restart_in_the_same_data_dir(tmp_path: Path) -> None:
    with RedisServer(data_dir=tmp_path) as first:
        client = redis.Redis.from_url(first.url)
        client.rpush("queue", "a", "b")
        client.close()
    with RedisServer(data_dir=tmp_path) as second:
        client = redis.Redis.from_url(second.url)
        assert client.lrange("queue", 0, -1) == [b"a", b"b"]
        client.close()


def test_start_failure_raises_with_the_log(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = RedisServer(port=port, data_dir=tmp_path)
        with pytest.raises(RuntimeError, match=str(port)):
            server.start(timeout=5)
        assert not server.running()
