"""--stress: load the machine while the items run, so that races of the engine (and of the harness) show
up: one CPU hog per core (a busy loop) and one memory hog (touches about a quarter of the free memory,
again and again, so that the kernel must keep reclaiming). Run by the controller process only (not by
xdist workers); every hog is our child, dies with us (PR_SET_PDEATHSIG) and is killed and reaped by its
PID at the end of the session, also after a failure or ^C."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys

import pytest

PR_SET_PDEATHSIG = 1

CPU_HOG = "while True: pass"
MEM_HOG = r"""
import mmap
avail = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemAvailable:")) * 1024
size = max(avail // 4, 1 << 20) & ~(mmap.PAGESIZE - 1)
buf = mmap.mmap(-1, size)
n = 0
while True:
    n = (n + 1) & 0xFF
    for off in range(0, size, mmap.PAGESIZE):
        buf[off] = n
"""


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Stress:
    """The hogs of one session: a pytest plugin registered by zdtm.plugin for --stress."""

    def __init__(self) -> None:
        self.hogs: list[subprocess.Popen] = []

    def _spawn(self, code: str) -> None:
        self.hogs.append(
            subprocess.Popen(
                [sys.executable, "-c", code],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 (no threads in the controller yet)
            )
        )

    def start(self) -> None:
        for _ in range(os.cpu_count() or 1):
            self._spawn(CPU_HOG)
        self._spawn(MEM_HOG)

    def stop(self) -> None:
        hogs, self.hogs = self.hogs, []
        for hog in hogs:
            if hog.poll() is None:
                hog.kill()
        for hog in hogs:
            hog.wait()

    def describe(self) -> str:
        cpus = sum(1 for h in self.hogs if h.args[-1] == CPU_HOG)
        return f"stress: {cpus} CPU hogs, 1 memory hog (pids {', '.join(str(h.pid) for h in self.hogs)})"

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.start()

    def pytest_report_header(self, config: pytest.Config) -> str:
        return self.describe()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.stop()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.stop()  # after an interrupted or failed session too (no-op if sessionfinish ran)
