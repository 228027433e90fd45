"""What every bench shares: the processes it started (reaped by PID whatever happens), waiting for a
target's output, and the engine's own figures in its log."""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

WNOHANG_WALL = os.WNOHANG | 0x40000000  # __WALL


class BenchError(Exception):
    pass


@dataclass
class Procs:
    """Every process this bench started and has not reaped yet, by PID."""

    pids: set[int] = field(default_factory=set)

    def add(self, pid: int) -> None:
        self.pids.add(pid)

    def reap(self, pid: int, sig: int | None = signal.SIGKILL, timeout: float = 10.0) -> int | None:
        """Signal (unless sig is None) and wait for pid; returns its wait status (None if not ours)."""
        if sig is not None:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while True:
            try:
                got, status = os.waitpid(pid, WNOHANG_WALL)
            except ChildProcessError:
                self.pids.discard(pid)
                return None
            if got == pid:
                self.pids.discard(pid)
                return status
            if time.monotonic() > deadline:
                raise BenchError(f"pid {pid} did not exit within {timeout} s")
            time.sleep(0.001)

    def cleanup(self) -> None:
        for pid in sorted(self.pids):
            try:
                self.reap(pid)
            except BenchError as exc:
                print(f"bench: {exc}", file=sys.stderr)


def log_seconds(log: Path, pattern: str) -> float | None:
    m = re.search(pattern, log.read_text(errors="replace")) if log.exists() else None
    return float(m.group(1)) if m else None


def wait_line(path: Path, prefix: str, count: int, timeout: float) -> str:
    """The count-th line starting with prefix in path (1-based)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [x for x in path.read_text(errors="replace").splitlines() if x.startswith(prefix)]
        if len(lines) >= count:
            return lines[count - 1]
        if time.monotonic() > deadline:
            raise BenchError(f"no '{prefix}' line #{count} in {path} within {timeout:.0f} s")
        time.sleep(0.001)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")

