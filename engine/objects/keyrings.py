"""Keyrings: a process or thread keyring, or a session keyring other than the one a restored process
would inherit from the engine, cannot be brought back (their keys die with the tree): refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.abi import nr
from engine.errors import UnsupportedError
from engine.native import lib
from engine.objects.base import KernelObject

if TYPE_CHECKING:
    from engine.context import DumpContext
    from engine.task import Task, Thread

KEYCTL_GET_KEYRING_ID = 0
THREAD, PROCESS, SESSION, USER_SESSION = -1, -2, -3, -5
ENOKEY = 126


def _mine(which: int) -> int:
    return lib.st_syscall(nr.keyctl, KEYCTL_GET_KEYRING_ID, which, 0, 0, 0, 0)


def _theirs(th: Thread, which: int) -> int:
    return th.injector.raw(nr.keyctl, KEYCTL_GET_KEYRING_ID, which, 0)


def dump(ctx: DumpContext, t: Task) -> None:
    leader = t.leader
    if _theirs(leader, PROCESS) != -ENOKEY:
        raise UnsupportedError(f"pid {t.pid} has a process keyring (keyrings are not supported)")
    session = _theirs(leader, SESSION)
    if session < 0:
        return  # no keyrings in this kernel
    fallback = session == _theirs(leader, USER_SESSION)  # no session keyring of its own
    if session != _mine(SESSION) and not (fallback and _mine(SESSION) == _mine(USER_SESSION)):
        raise UnsupportedError(f"pid {t.pid} has a session keyring ({session}) other than the one a restored "
                               "process would inherit from the engine (keyrings are not supported)")


def dump_thread(ctx: DumpContext, t: Task, th: Thread) -> None:
    if _theirs(th, THREAD) != -ENOKEY:
        raise UnsupportedError(f"thread {th.tid} has a thread keyring (keyrings are not supported)")


OBJECT = KernelObject("keyrings", dump=dump, dump_thread=dump_thread)
