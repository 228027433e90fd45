"""Operations run inside a task by injected syscalls that several object modules need."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from engine.abi import nr
from engine.abi.consts import AT_FDCWD, O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC, O_WRONLY
from engine.errors import RestoreError

if TYPE_CHECKING:
    from engine.context import RestoreContext
    from engine.task import Task


def open_in_task(t: Task, path: str, flags: int) -> int:
    """open() injected into the task; the path travels through the scratch area."""
    inj = t.injector
    inj.put_str(path)
    flags &= ~(O_CREAT | O_EXCL | O_TRUNC)
    ret = inj.raw(nr.openat, AT_FDCWD, inj.scratch, flags | O_NOCTTY, 0)
    if ret < 0:
        raise RestoreError(f"pid {t.pid}: cannot open {path}: {os.strerror(-ret)}")
    return ret


def write_own_proc(t: Task, path: str, data: bytes) -> None:
    """Write a /proc/self file as the task itself (some may only be written by their own task)."""
    inj = t.injector
    fd = open_in_task(t, path, O_WRONLY)
    try:
        inj.put(data)
        ret = inj.raw(nr.write, fd, inj.scratch, len(data))
        if ret != len(data):
            err = os.strerror(-ret) if ret < 0 else "short write"
            raise RestoreError(f"pid {t.pid}: cannot write {path}: {err}")
    finally:
        inj.raw(nr.close, fd)


def open_by_engine(ctx: RestoreContext, t: Task, path: str, flags: int) -> int:
    """`path` opened by the engine (as it sees it) and handed to the task: its fd number there."""
    try:
        src = os.open(path, flags | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError as exc:
        raise RestoreError(f"pid {t.pid}: cannot open {path}: {exc.strerror}") from exc
    try:
        fd = ctx.fd_broker.hand_out(t, src)
    finally:
        os.close(src)
    if fd < 0:
        raise RestoreError(f"pid {t.pid}: cannot take {path} from the engine: {os.strerror(-fd)}")
    return fd


def fd_from_broker(ctx: RestoreContext, t: Task, fid: int) -> int:
    """The engine's fd of file `fid` (the fd broker opens it once), taken into the task with
    pidfd_getfd(): for what the task maps that has no name to open (memfds, deleted files)."""
    src = ctx.fd_broker.fd_for(fid)
    assert t.files is not None
    fd = ctx.fd_broker.hand_out(t, src)
    if fd < 0:
        raise RestoreError(f"pid {t.pid}: cannot take file {fid} from the engine: {os.strerror(-fd)}")
    return fd
