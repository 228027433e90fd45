"""The injected clone3() that creates a process or thread at its old pid (struct clone_args v2, 88 bytes).

set_tid names the pid on each level, innermost first. Inside a user namespace of the tree's own (or one
nested in it), a process may name only the levels its namespace owns (the others are EPERM): each other
level then gets its pid through that level's ns_last_pid, set just before (namespaces.pid_levels says by
whom), and the result is checked (another process of the engine's pid namespace may have taken a pid
meanwhile: that child is undone and made again).
"""

from __future__ import annotations

import os
import signal
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine import proc
from engine.abi import nr
from engine.abi.consts import CLONE_PARENT, CLONE_THREAD, WALL
from engine.compel.inject import SCRATCH_DATA
from engine.errors import RestoreError
from engine.log import log

if TYPE_CHECKING:
    from engine.compel.inject import Injector

# flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup
CLONE_ARGS = struct.Struct("<QQQQQQQQQQQ")
LAST_PID = "/proc/sys/kernel/ns_last_pid"
ATTEMPTS = 20


def _call(inj: Injector, flags: int, exit_signal: int, tids: list[int]) -> int:
    tid_addr = SCRATCH_DATA - 64
    inj.put(struct.pack(f"<{len(tids)}i", *tids), tid_addr)
    where = inj.scratch + tid_addr if tids else 0  # an array with no entries must be NULL (EINVAL)
    args = CLONE_ARGS.pack(flags, 0, 0, 0, exit_signal, 0, 0, 0, where, len(tids), 0)
    inj.put(args, 0)
    return inj.raw(nr.clone3, inj.scratch, CLONE_ARGS.size)


def _nspid(pid: int) -> list[str]:
    try:
        return proc.status(pid).get("NSpid", "").split()
    except OSError:
        return []


def _born(creator: int, level: int, seen: int) -> int | None:
    """The engine's pid of the child (or thread) that `creator` just made, which it sees as `seen` (NSpid
    entry `level`): among the children of the creator's threads or of its parent (CLONE_PARENT), or among
    its threads."""
    def match(pid: int) -> bool:
        ids = _nspid(pid)
        return len(ids) > level and ids[level] == str(seen)

    parent = int(proc.status(creator).get("PPid", "0"))
    for who in (creator, parent):
        for task in os.listdir(f"/proc/{who}/task"):
            try:
                kids = proc.read_str(f"/proc/{who}/task/{task}/children").split()
            except OSError:
                continue
            for k in kids:
                if match(int(k)):
                    return int(k)
    for task in os.listdir(f"/proc/{creator}/task"):
        if int(task) != creator and match(int(task)):
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


def clone3(inj: Injector, creator: int, flags: int, exit_signal: int, tids: list[int], owned: int,
           last_pid: list[Callable[[int], None]], what: str, seen: int) -> int:
    """clone3 in `inj`'s task with set_tid = tids (innermost first); returns what it returned (`seen`, the
    pid in the creator's namespace, or -errno). Only the `owned` innermost levels can be named in set_tid
    (the creator's user namespace owns them); each other level gets its pid from that level's ns_last_pid,
    set just before by last_pid[i] (innermost first). A process born at other pids (another process of the
    engine's pid namespace forked in between) is undone and made again; a thread or a CLONE_PARENT child
    (reaped by another process) fails the restore instead."""
    if owned >= len(tids):
        return _call(inj, flags, exit_signal, tids)
    outer = tids[-1]
    want = [str(x) for x in reversed(tids)]
    level = len(_nspid(creator)) - 1  # where the creator's own pid namespace is in a child's NSpid
    for attempt in range(ATTEMPTS):
        for i, setter in enumerate(last_pid):
            try:
                setter(tids[owned + i] - 1)
            except OSError as exc:
                pid = tids[owned + i]
                raise RestoreError(f"{what}: cannot set ns_last_pid for its pid {pid}: {exc}") from exc
        ret = _call(inj, flags, exit_signal, tids[:owned])
        if ret < 0 or _nspid(outer) == want:
            return ret
        got = _born(creator, level, ret)
        if got is not None and _nspid(got) == want:
            return ret
        if os.path.exists(f"/proc/{outer}"):  # taken for good by another process: no attempt can have it
            if got is not None and not flags & CLONE_THREAD:
                _collect(got)
            try:
                who = proc.read_str(f"/proc/{outer}/comm").strip()
            except OSError:
                who = "?"
            raise RestoreError(f"{what}: its outer pid {outer} was taken by another process meanwhile "
                               f"({who}): restore again")
        born = _nspid(got) if got is not None else []
        log.debug("%s: born at pids %s, not %s (attempt %d)", what, born, want, attempt + 1)
        if got is None or flags & (CLONE_THREAD | CLONE_PARENT):
            if got is not None and not flags & CLONE_THREAD:
                _collect(got)
            raise RestoreError(f"{what}: it was born at pids {born}, not {want} (another process took one "
                               "meanwhile): restore again")
        _collect(got)
        reaped = inj.raw(nr.wait4, ret, 0, WALL, 0)  # its zombie, by its parent: the pids are free again
        if reaped != ret:
            raise RestoreError(f"{what}: cannot reap the copy born at {born}: {reaped}")
    raise RestoreError(f"{what}: other processes kept taking its outer pid {outer}")
