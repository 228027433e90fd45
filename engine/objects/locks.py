"""File locks and leases. Not restored yet (the fd issue): a tree that holds any is refused, naming the
process, the fd and the kind of lock, since restoring it without would let another process take a lock
the program thinks it holds. SysV semaphores the tree operated last on are refused too: the kill that
ends a dump applies the tree's SEM_UNDO adjustments, and they cannot be read to be restored."""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING

from engine.errors import UnsupportedError
from engine.objects.base import KernelObject

if TYPE_CHECKING:
    from engine.context import DumpContext
    from engine.task import Task

KINDS = {"FLOCK": "flock() lock", "POSIX": "POSIX (fcntl) lock", "OFDLCK": "OFD lock", "LEASE": "lease",
         "DELEG": "delegation"}
GETPID, SEM_STAT_ANY = 11, 20


def check(ctx: DumpContext, t: Task) -> None:
    if not t.alive:
        return
    for info in t.facts.fds:
        lock = info.extra.get("lock")
        if lock:
            words = lock.split()
            kind = KINDS.get(words[1] if len(words) > 1 else "", "lock")
            hint = " (not even with --file-locks)" if ctx.opts.file_locks else ""
            raise UnsupportedError(f"pid {t.pid} fd {info.fd} ({info.target}) holds a {kind}: "
                                   "file locks are not "
                                   f"restored yet{hint}")
    if t is ctx.root:
        _check_semaphores(ctx)


def _check_semaphores(ctx: DumpContext) -> None:
    try:
        with open("/proc/sysvipc/sem") as f:
            sets = [line.split() for line in f][1:]
    except FileNotFoundError:
        return
    if not sets:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    pids = {t.pid for t in ctx.tasks}
    for fields in sets:
        semid, nsems = int(fields[1]), int(fields[3])
        for n in range(nsems):
            last = libc.semctl(semid, n, GETPID)
            if last in pids:
                raise UnsupportedError(f"pid {last} operated on SysV semaphore {semid}/{n}: its SEM_UNDO "
                                       "adjustments cannot be read, and the dump's kill would apply them "
                                       "(SysV semaphores are not supported yet)")


OBJECT = KernelObject("locks", check=check)
