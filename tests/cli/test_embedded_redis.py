"""The embedded redis-server is real, loopback-only, keeps its data where told and never leaks.

It is also hardened (issue 9): a password from a 0600 file, dangerous commands renamed away,
a memory cap with noeviction, automatic AOF rewrite.
"""

from __future__ import annotations

import os
import socket
import stat
import time
from pathlib import Path

import pytest
import redis

from cli.embedded_redis import (
    DISABLED_COMMANDS,
    PASSWORD_FILE,
    RedisServer,
    find_redis_server,
    free_port,
    load_or_create_password,
    redis_reachable,
)


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
    assert server.url == f"redis://:{server.password}@127.0.0.1:{port}/0"
    with server:
        pid = server.pid
        assert pid is not None and _pid_alive(pid)
        assert redis_reachable(server.url)
        client = redis.Redis.from_url(server.url)
        assert client.set("digit", "7")
        assert client.get("digit") == b"7"
        info = client.info()
        assert info["tcp_port"] == port
        assert info["aof_enabled"] == 1
        client.close()
        # loopback only: the server's listening socket is bound to 127.0.0.1
        listening = Path("/proc/net/tcp").read_text()
        assert f"0100007F:{port:04X}" in listening
        assert f"00000000:{port:04X}" not in listening
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        assert server.password.encode() not in cmdline, "the password must not show in ps"
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


def test_password_is_required_and_kept_in_a_private_file(tmp_path: Path) -> None:
    with RedisServer(data_dir=tmp_path) as server:
        path = tmp_path / PASSWORD_FILE
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text().strip() == server.password
        assert len(server.password) >= 32
        anonymous = redis.Redis(host="127.0.0.1", port=server.port)
        with pytest.raises(redis.AuthenticationError):
            anonymous.ping()
        anonymous.close()
        wrong = redis.Redis(host="127.0.0.1", port=server.port, password="wrong")
        with pytest.raises(redis.AuthenticationError):
            wrong.ping()
        wrong.close()
    # the same data dir keeps the same password, so running clients can reconnect
    with RedisServer(data_dir=tmp_path) as again:
        assert again.password == server.password
        assert redis_reachable(again.url)


def test_password_file_is_created_0600_even_with_a_loose_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        password = load_or_create_password(tmp_path / "sub" / "pw")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "sub" / "pw").stat().st_mode) == 0o600
    assert load_or_create_password(tmp_path / "sub" / "pw") == password


def test_dangerous_commands_are_renamed_away(tmp_path: Path) -> None:
    with RedisServer(data_dir=tmp_path) as server:
        client = redis.Redis.from_url(server.url)
        for name, *args in [("CONFIG", "SET", "dir", "/tmp"), ("DEBUG", "SLEEP", "0"),
                            ("FLUSHALL",), ("FLUSHDB",), ("KEYS", "*")]:
            assert name in DISABLED_COMMANDS
            with pytest.raises(redis.ResponseError, match="unknown command"):
                client.execute_command(name, *args)
        assert list(client.scan_iter(match="*")) == []  # SCAN is the way to list keys
        client.close()


def test_memory_is_capped_without_eviction_and_aof_rewrites_itself(tmp_path: Path) -> None:
    with RedisServer(data_dir=tmp_path, maxmemory="1mb") as server:
        client = redis.Redis.from_url(server.url)
        memory = client.info("memory")
        assert memory["maxmemory"] == 1024 * 1024
        assert memory["maxmemory_policy"] == "noeviction"
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            for i in range(1000):
                client.set(f"k{i}", b"x" * 10_000)
        assert client.get("k0") == b"x" * 10_000, "noeviction: nothing written was dropped"
        client.close()


def test_aof_is_rewritten_automatically_once_it_grows(tmp_path: Path) -> None:
    with RedisServer(data_dir=tmp_path) as server:
        client = redis.Redis.from_url(server.url)
        assert client.info("persistence")["aof_base_size"] == 0
        for i in range(40):  # ~40 MB of appends: past the 32 MB floor and the 50% growth
            client.set(f"blob{i % 4}", b"x" * 1_000_000)
        deadline = time.monotonic() + 30
        while client.info("persistence")["aof_base_size"] == 0:
            assert time.monotonic() < deadline, client.info("persistence")
            time.sleep(0.2)
        # the rewrite kept only the live data (4 blobs), not the 40 writes
        assert client.info("persistence")["aof_base_size"] < 10_000_000
        client.close()


def test_start_after_a_crash_brings_the_same_data_back(tmp_path: Path) -> None:
    server = RedisServer(data_dir=tmp_path).start()
    try:
        client = redis.Redis.from_url(server.url)
        client.rpush("queue", "a")
        client.close()
        time.sleep(1.2)  # appendfsync everysec
        os.kill(server.pid or 0, 9)
        server.wait_exit()
        assert not server.running() and server.exit_code() == -9
        server.start()
        client = redis.Redis.from_url(server.url)
        assert client.lrange("queue", 0, -1) == [b"a"]
        client.close()
    finally:
        server.stop()
