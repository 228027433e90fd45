"""Fixtures for the engine tests: real target processes, the engine CLI as a subprocess, reaping.

The pytest process becomes a child subreaper, so whatever the engine restores (and leaves behind
when it exits) is re-parented to us; every target is killed and reaped by its PID at teardown,
and only if it is still our child (a PID is never signalled on a guess).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PR_SET_CHILD_SUBREAPER = 36
IS_ROOT = os.geteuid() == 0

needs_root = pytest.mark.skipif(not IS_ROOT, reason="checkpoint/restore needs root (CAP_SYS_ADMIN, "
                                                    "CAP_CHECKPOINT_RESTORE); run the suite as root")

# A target that keeps counting: one line per tick on stdout (a regular file), flushed.
COUNTER = r"""
import os, sys, time
n = 0
while True:
    n += 1
    sys.stdout.write(f"{n}\n")
    sys.stdout.flush()
    time.sleep(0.02)
"""


def _prctl_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@pytest.fixture(scope="session", autouse=True)
def subreaper() -> None:
    """Restored processes outlive the engine; as a subreaper we get them (and can reap them)."""
    _prctl_subreaper()


def proc_status(pid: int) -> dict[str, str]:
    out: dict[str, str] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, val = line.partition(":")
            out[key] = val.strip()
    return out


def is_our_child(pid: int) -> bool:
    try:
        return int(proc_status(pid)["PPid"]) == os.getpid()
    except (FileNotFoundError, ProcessLookupError, KeyError, ValueError):
        return False


def alive(pid: int) -> bool:
    """Exists and is not a zombie."""
    try:
        return proc_status(pid)["State"][0] not in "ZX"
    except (FileNotFoundError, ProcessLookupError):
        return False


def kill_and_reap(pid: int) -> None:
    """SIGKILL and reap `pid`, only if it is our child (never a PID that went to someone else)."""
    if not is_our_child(pid):
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def reap_if_zombie(pid: int) -> None:
    if is_our_child(pid):
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def descendants() -> set[tuple[int, int]]:
    """(pid, start time) of every process below us, zombies included."""
    parents: dict[int, int] = {}
    starts: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2:].split()
        parents[int(name)] = int(rest[1])
        starts[int(name)] = int(rest[19])
    me = os.getpid()
    out: set[tuple[int, int]] = set()
    for pid in parents:
        p, seen = pid, 0
        while p > 1 and seen < 64:
            p = parents.get(p, 0)
            seen += 1
            if p == me:
                out.add((pid, starts[pid]))
                break
    return out


@dataclass
class Target:
    pid: int
    proc: subprocess.Popen[bytes]
    out: Path  # its stdout/stderr
    cwd: Path

    def lines(self) -> list[str]:
        return self.out.read_text(errors="replace").splitlines()

    def count(self) -> int:
        """The last complete number the counter target wrote (0 if none yet)."""
        text = self.out.read_text(errors="replace")
        nums = [int(x) for x in text.split("\n")[:-1] if x.strip().isdigit()]
        return nums[-1] if nums else 0

    def wait_count(self, above: int, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        n = self.count()
        while n <= above and time.monotonic() < deadline:
            time.sleep(0.02)
            n = self.count()
        assert n > above, f"pid {self.pid} stopped counting at {n} (waited {timeout} s for > {above})"
        return n

    def reap_dumped(self, timeout: float = 10.0) -> None:
        """After a dump without -R the engine killed it: reap it so its PID is free for restore."""
        self.proc.wait(timeout=timeout)


@dataclass
class Spawner:
    tmp: Path
    pids: list[int] = field(default_factory=list)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __call__(self, argv: list[str], ready: Callable[[Target], bool] | None = None,
                 name: str = "target", timeout: float = 10.0) -> Target:
        cwd = self.tmp / f"{name}-{len(self.pids)}"
        cwd.mkdir()
        out = cwd / "out.txt"
        with open(os.devnull, "rb") as null, open(out, "wb") as o:
            proc = subprocess.Popen(argv, cwd=cwd, stdin=null, stdout=o, stderr=o, start_new_session=True,
                                    close_fds=True)
        self.pids.append(proc.pid)
        self.procs.append(proc)
        t = Target(proc.pid, proc, out, cwd)
        deadline = time.monotonic() + timeout
        while ready is not None and not ready(t):
            assert proc.poll() is None, f"target exited early ({proc.returncode}): {out.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"target not ready in {timeout} s: {out.read_text()[-2000:]}"
            time.sleep(0.02)
        return t

    def python(self, code: str = COUNTER, ready: Callable[[Target], bool] | None = None) -> Target:
        return self(["python3", "-c", code], ready or (lambda t: t.count() >= 3), name="py")

    def cleanup(self) -> None:
        for pid in self.pids:
            kill_and_reap(pid)
        for proc in self.procs:  # let Popen know, without signalling anything
            try:
                proc.wait(timeout=0)
            except (subprocess.TimeoutExpired, ChildProcessError):
                pass


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawner]:
    """Start targets; at teardown each is killed and reaped by PID (also a restored one at that PID)."""
    s = Spawner(tmp_path)
    try:
        yield s
    finally:
        s.cleanup()


@pytest.fixture
def counter(spawn: Spawner) -> Target:
    return spawn.python()


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"stasis {' '.join(self.args)} -> {self.returncode}\nstdout: {self.stdout[-3000:]}\n" \
               f"stderr: {self.stderr[-3000:]}"


def stasis(*args: str | os.PathLike[str], fault: str | None = None, timeout: float = 120.0) -> Result:
    """Run the engine CLI as `python -m engine ARGS` from the repo root."""
    env = dict(os.environ)
    env.pop("STASIS_FAULT", None)
    if fault:
        env["STASIS_FAULT"] = fault
    argv = [os.fspath(a) for a in args]
    with open(os.devnull, "rb") as null:
        res = subprocess.run([sys.executable, "-m", "engine", *argv], cwd=REPO, env=env, stdin=null,
                             capture_output=True, timeout=timeout, close_fds=True)
    return Result(argv, res.returncode, res.stdout.decode(errors="replace"),
                  res.stderr.decode(errors="replace"))


@dataclass(frozen=True)
class Snapshot:
    """What must not change when a dump fails or leaves the task running."""
    maps: str
    fds: dict[str, str]
    sigblk: str
    sigign: str
    sigcgt: str
    tracer: str
    ppid: str

    @classmethod
    def take(cls, pid: int) -> Snapshot:
        st = proc_status(pid)
        with open(f"/proc/{pid}/maps") as f:
            maps = f.read()
        fds = {fd: os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        return cls(maps, fds, st["SigBlk"], st["SigIgn"], st["SigCgt"], st["TracerPid"], st["PPid"])


def assert_untouched(t: Target, before: Snapshot) -> None:
    """The target runs on, untraced, in the same state, and keeps counting."""
    assert alive(t.pid), f"pid {t.pid} is gone"
    n = t.count()
    t.wait_count(n + 2)
    after = Snapshot.take(t.pid)
    assert after.tracer == "0", f"pid {t.pid} is still traced by {after.tracer}"
    assert after == before
    assert proc_status(t.pid)["State"][0] in "RS", proc_status(t.pid)["State"]
