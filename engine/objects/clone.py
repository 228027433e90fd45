"""The injected clone3() that creates a process or thread at its old pid (struct clone_args v2, 88 bytes).

set_tid names the pid on each level, innermost first. Inside a user namespace of the tree's own, a process
may name only the levels its namespace owns (the outer one is EPERM): the engine's level then gets its pid
through the engine's ns_last_pid, set just before, and the result is checked (another process of the
engine's pid namespace may have taken it meanwhile: that child is undone and made again).
"""

from __future__ import annotations

import os
import signal
import struct
from typing import TYPE_CHECKING

from engine import proc
from engine.abi import nr
from engine.abi.consts import CLONE_PARENT, CLONE_THREAD, WALL
from engine.compel.inject import SCRATCH_DATA
from engine.errors import RestoreError
from engine.log import log
from engine.objects import nsworker

if TYPE_CHECKING:
    from engine.compel.inject import Injector

# flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup
CLONE_ARGS = struct.Struct("<QQQQQQQQQQQ")
LAST_PID = "/proc/sys/kernel/ns_last_pid"
ATTEMPTS = 20


def _call(inj: Injector, flags: int, exit_signal: int, tids: list[int]) -> int:
    tid_addr = SCRATCH_DATA - 64
    inj.put(struct.pack(f"<{len(tids)}i", *tids), tid_addr)
    args = CLONE_ARGS.pack(flags, 0, 0, 0, exit_signal, 0, 0, 0, inj.scratch + tid_addr, len(tids), 0)
    inj.put(args, 0)
    return inj.raw(nr.clone3, inj.scratch, CLONE_ARGS.size)


def _nspid(pid: int) -> list[str]:
    try:
        return proc.status(pid).get("NSpid", "").split()
    except OSError:
        return []


def _outer_of(creator: int, inner: list[str]) -> int | None:
    """The engine's pid of the child (or thread) with pids `inner` below the engine's level that `creator`
    just made: among the children of the creator's threads or of its parent (CLONE_PARENT), or among its
    threads."""
    want = inner
    parent = int(proc.status(creator).get("PPid", "0"))
    for who in (creator, parent):
        for task in os.listdir(f"/proc/{who}/task"):
            try:
                kids = proc.read_str(f"/proc/{who}/task/{task}/children").split()
            except OSError:
                continue
            for k in kids:
                if _nspid(int(k))[1:] == want:
                    return int(k)
    for task in os.listdir(f"/proc/{creator}/task"):
        if _nspid(int(task))[1:] == want:
            return int(task)
    return None


def _collect(pid: int) -> None:
    """The engine, as its tracer, takes the death of a child born at the wrong pid (else its parent could
    not reap it: a pid namespace's init would wait for it forever)."""
    try:
        os.kill(pid, signal.SIGKILL)
        while True:
            _, status = os.waitpid(pid, WALL)
            if os.WIFEXITED(status) or os.WIFSIGNALED(status):
                return
    except (ProcessLookupError, ChildProcessError):
        return


def clone3(inj: Injector, creator: int, flags: int, exit_signal: int, tids: list[int], by_last_pid: bool,
           what: str, seen: int) -> int:
    """clone3 in `inj`'s task with set_tid = tids (innermost first); returns what it returned (`seen`, the
    pid in the creator's namespace, or -errno). `by_last_pid`: the creator is in a user namespace of its
    own, and tids[-1] (the engine's level) comes from ns_last_pid: a process born at another outer pid
    (another process of the engine's pid namespace forked in between) is undone and made again; a thread or
    a CLONE_PARENT child (reaped by another process) fails the restore instead."""
    if not by_last_pid or len(tids) < 2:
        return _call(inj, flags, exit_signal, tids)
    outer = tids[-1]
    want = [str(x) for x in reversed(tids)]
    for attempt in range(ATTEMPTS):
        try:
            nsworker.write_text(LAST_PID, str(outer - 1))
        except OSError as exc:
            raise RestoreError(f"{what}: cannot set {LAST_PID} for its outer pid {outer}: {exc}") from exc
        ret = _call(inj, flags, exit_signal, tids[:-1])
        if ret != seen or _nspid(outer) == want:
            return ret
        got = _outer_of(creator, want[1:])
        if got == outer:
            return ret
        if os.path.exists(f"/proc/{outer}"):  # taken for good by another process: no attempt can have it
            if got is not None:
                _collect(got)
            try:
                who = proc.read_str(f"/proc/{outer}/comm").strip()
            except OSError:
                who = "?"
            raise RestoreError(f"{what}: its outer pid {outer} was taken by another process meanwhile "
                               f"({who}): restore again")
        log.debug("%s: born at outer pid %s, not %d (attempt %d)", what, got, outer, attempt + 1)
        if got is None or flags & (CLONE_THREAD | CLONE_PARENT):
            if got is not None and not flags & CLONE_THREAD:
                _collect(got)
            raise RestoreError(f"{what}: it was born at outer pid {got}, not {outer} (another process took "
                               "that pid meanwhile): restore again")
        _collect(got)
        reaped = inj.raw(nr.wait4, seen, 0, WALL, 0)  # its zombie, by its parent: the inner pid is free
        if reaped != seen:
            raise RestoreError(f"{what}: cannot reap the copy born at outer pid {got}: {reaped}")
    raise RestoreError(f"{what}: other processes kept taking its outer pid {outer}")
