"""Peak memory of running processes (whole trees), from Linux's own high-water mark.

Sampling RSS can miss a short peak; the kernel's VmHWM cannot. Writing 5 to
/proc/PID/clear_refs resets it, so a peak can be measured around one request.
"""

from __future__ import annotations

from pathlib import Path

import psutil


def tree(pid: int) -> list[psutil.Process]:
    """The process and its descendants (gunicorn's worker is the master's child)."""
    p = psutil.Process(pid)
    return [p, *p.children(recursive=True)]


def _hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for {pid}")


class PeakRss:
    """`start()` records each process's RSS and resets its peak; `growth_mb()` reads it."""

    def __init__(self, pid: int) -> None:
        self.procs = tree(pid)
        self.before: dict[int, int] = {}

    def start(self) -> None:
        for p in self.procs:
            Path(f"/proc/{p.pid}/clear_refs").write_text("5")
            self.before[p.pid] = p.memory_info().rss // 1024

    def growth_mb(self) -> float:
        """The largest peak-minus-start RSS over the tree's processes, in MB."""
        return max((_hwm_kb(p.pid) - self.before[p.pid]) / 1024 for p in self.procs)
