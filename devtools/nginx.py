"""A real nginx on loopback in front of several web processes, for tests and benchmarks.

It runs the deployed config, deploy/nginx.conf, rewritten for a normal user and a throwaway
directory: `listen` on a free 127.0.0.1 port, one upstream `server` line per web port, and the
pid, log and temp paths inside that directory. So the tests exercise the same routing, headers
and timeouts as docker-compose. The binary is Debian's (`apt-get install nginx`, as the
Makefile does).
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from cli.embedded_redis import free_port

REPO = Path(__file__).resolve().parents[1]
DEPLOY_CONF = REPO / "deploy" / "nginx.conf"
UPSTREAM_LINE = re.compile(r"^(\s*)server web:5000 (.*);$", re.MULTILINE)
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def find_nginx() -> str:
    """The nginx binary: PATH first, then Debian's /usr/sbin (not on a normal user's PATH)."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise RuntimeError("nginx not found: `apt-get install nginx` (or run `make test`, "
                           "which installs it)")
    return found


def _sub(pattern: str, repl: str, text: str, count: int = 1) -> str:
    """re.sub that insists on exactly `count` matches, so an edit of the deployed file that
    breaks this rewrite fails loudly instead of silently running another config."""
    new, n = re.subn(pattern, lambda _m: repl, text, flags=re.MULTILINE)
    if n != count:
        raise ValueError(f"deploy/nginx.conf: expected {count} match(es) of {pattern!r}, got {n}")
    return new


# a network whose proxy refuses websocket upgrades (tests of the long-polling fallback)
BLOCK_WEBSOCKETS = "            if ($http_upgrade) { return 403; }\n"


def loopback_config(web_ports: list[int], listen_port: int, run_dir: Path,
                    source: str | None = None, block_websockets: bool = False) -> str:
    """deploy/nginx.conf for loopback: upstream = `web_ports`, files under `run_dir`; with
    `block_websockets`, websocket upgrades are refused (403), as some networks do."""
    text = source if source is not None else DEPLOY_CONF.read_text()
    text = _sub(r"^user .*;\n", "", text)  # only root may switch users
    text = _sub(r"^worker_processes .*;$", "worker_processes 1;", text)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nofile = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    text = _sub(r"^worker_rlimit_nofile .*;$", f"worker_rlimit_nofile {nofile};", text)
    text = _sub(r"^pid .*;$", f"pid {run_dir / 'nginx.pid'};", text)
    text = _sub(r"^error_log .*;$", f"error_log {run_dir / 'error.log'} warn;", text)
    text = _sub(r"^\s*access_log \S+ digitflow;$",
                f"    access_log {run_dir / 'access.log'} digitflow;", text)
    temps = "".join(f"    {name}_temp_path {run_dir / 'temp' / name};\n" for name in TEMP_DIRS)
    text = _sub(r"^http \{\n", "http {\n" + temps, text)
    text = _sub(r"^(\s*)listen 80;$", f"        listen 127.0.0.1:{listen_port};", text)

    def servers(m: re.Match[str]) -> str:
        indent, params = m.group(1), m.group(2)
        return "\n".join(f"{indent}server 127.0.0.1:{p} {params};" for p in web_ports)

    text, n = UPSTREAM_LINE.subn(servers, text)
    if n != 2:
        raise ValueError(f"deploy/nginx.conf: expected 2 upstream server lines, got {n}")
    if block_websockets:
        text = _sub(r"^(\s*)location /socket\.io/ \{\n",
                    "        location /socket.io/ {\n" + BLOCK_WEBSOCKETS, text)
    return text


class Nginx:
    """`nginx -p DIR -c nginx.conf -g 'daemon off;'` as a child process, on a free port."""

    def __init__(self, web_ports: list[int], run_dir: Path | None = None,
                 block_websockets: bool = False) -> None:
        self.run_dir = run_dir or Path(tempfile.mkdtemp(prefix="digitflow-nginx-"))
        self.block_websockets = block_websockets
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.web_ports = list(web_ports)
        self.proc: subprocess.Popen | None = None

    @property
    def conf(self) -> Path:
        return self.run_dir / "nginx.conf"

    def write_config(self) -> Path:
        """Write the loopback config and the temp folders nginx expects to exist."""
        for name in TEMP_DIRS:
            (self.run_dir / "temp" / name).mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # a root master hands requests to workers running as `nobody`, who must reach the
            # temp folders (nginx chowns them, but not the folders above)
            for path in (self.run_dir, self.run_dir / "temp"):
                path.chmod(0o755)
        self.conf.write_text(loopback_config(self.web_ports, self.port, self.run_dir,
                                             block_websockets=self.block_websockets))
        return self.conf

    def command(self) -> list[str]:
        return [find_nginx(), "-p", str(self.run_dir), "-c", str(self.conf),
                "-g", "daemon off;"]

    def start(self, timeout: float = 10.0) -> Nginx:
        """Start nginx and wait until it accepts connections."""
        self.write_config()
        log = open(self.run_dir / "nginx.out", "ab")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}: "
                                   f"{self.error_log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"nginx did not listen on {self.port}: {self.error_log()}")

    def error_log(self) -> str:
        out = ""
        for name in ("nginx.out", "error.log"):
            path = self.run_dir / name
            if path.exists():
                out += path.read_text(errors="replace")[-2000:]
        return out

    def stop(self, timeout: float = 10.0) -> None:
        """Fast shutdown (SIGTERM to the master, which stops its workers); SIGKILL if stuck."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(5)

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def check_config(conf_text: str, run_dir: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on a config text (its paths must be writable): syntax and semantics."""
    conf = run_dir / "check.conf"
    conf.write_text(conf_text)
    return subprocess.run([find_nginx(), "-t", "-p", str(run_dir), "-c", str(conf)],
                          capture_output=True, text=True, timeout=30)
