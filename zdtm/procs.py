"""Process checks the cycle makes from inside the item's container: alive, gone, reaped, traced."""

from __future__ import annotations

import os
import time
from pathlib import Path


def stat_state(pid: int, proc: Path = Path("/proc")) -> str | None:
    """The state letter of /proc/PID/stat (R, S, T, t, Z, ...), None if there is no such pid."""
    try:
        return (proc / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def alive(pid: int) -> bool:
    """Running (or stopped), not a zombie: pid 1 of the container reaps zombies at once anyway."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    state = stat_state(pid)
    return state is not None and state != "Z"


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    """Poll as upstream (0.05 s, then growing); return the pids still alive at the deadline."""
    deadline, delay = time.monotonic() + timeout, 0.05
    while True:
        left = [p for p in pids if alive(p)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def wait_reaped(pids: list[int], timeout: float) -> list[int]:
    """Like wait_gone, but a zombie counts as existing: return the pids with a /proc entry at the deadline."""
    deadline, delay = time.monotonic() + timeout, 0.05
    while True:
        left = [p for p in pids if os.path.exists(f"/proc/{p}")]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def tasks(pid: int, proc: Path = Path("/proc")) -> list[int]:
    try:
        return sorted(int(t) for t in os.listdir(proc / str(pid) / "task"))
    except OSError:
        return []


def traced(pids: list[int], proc: Path = Path("/proc")) -> list[str]:
    """Every task of `pids` that has a tracer or sits in a tracing stop, as 'pid/tid: why'."""
    found = []
    for pid in pids:
        for tid in tasks(pid, proc):
            tdir = proc / str(pid) / "task" / str(tid)
            try:
                status = (tdir / "status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
            tracer = fields.get("TracerPid", "0").strip()
            state = fields.get("State", "").strip()
            if tracer != "0":
                found.append(f"{pid}/{tid}: TracerPid {tracer}")
            elif state.startswith("t"):
                found.append(f"{pid}/{tid}: in a tracing stop ({state})")
    return found
