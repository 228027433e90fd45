"""/dev/tty: an open file of the caller's controlling terminal (the kernel resolves it at open()).

Such a file is not the terminal's own node (readlink says /dev/tty), so it is opened again as /dev/tty by
the restored process itself, once its session has its controlling terminal back (the pty module sets it
before the files are placed; under --shell-job the session is the caller's, with its terminal). At dump
the file must still lead to the process's controlling terminal (TIOCGDEV), which must be a pty of the
tree, or the caller's with --shell-job.
"""

from __future__ import annotations

import fcntl
import os
import stat as st
import struct
from typing import TYPE_CHECKING

from engine.abi import nr
from engine.abi.consts import O_ASYNC, O_CLOEXEC, O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC, TIOCGDEV
from engine.compel.pidfd import getfd
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import fdinfo_pb2
from engine.objects.files import pty
from engine.objects.files.kind import Fd, FdKind

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

DEVTTY = "/dev/tty"
DEVTTY_RDEV = os.makedev(5, 0)


def matches(fd: Fd) -> bool:
    return st.S_ISCHR(fd.stat.st_mode) and fd.stat.st_rdev == DEVTTY_RDEV


def _dev_name(rdev: int) -> str:
    return f"{os.major(rdev)}:{os.minor(rdev)}"


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    tty_nr = pty.ctty_of(t.pid)
    if not tty_nr:
        raise UnsupportedError(f"{fd.where}: /dev/tty of a terminal the process no longer has as its "
                               "controlling terminal (not supported)")
    mine = getfd(fd.pid, fd.num)
    try:
        real = struct.unpack("<I", fcntl.ioctl(mine, TIOCGDEV, b"\0" * 4))[0]
    except OSError as exc:
        raise UnsupportedError(f"{fd.where}: its terminal is gone ({exc.strerror}): not supported") from exc
    finally:
        os.close(mine)
    if real != tty_nr:
        raise UnsupportedError(f"{fd.where}: opened on terminal {_dev_name(real)}, but the controlling "
                               f"terminal is now {_dev_name(tty_nr)} (not supported)")
    if not pty.is_tree_ctty(ctx, tty_nr) and not ctx.opts.shell_job:
        raise UnsupportedError(f"{fd.where}: the controlling terminal {_dev_name(tty_nr)} is not a pty of "
                               "the tree; use --shell-job")


def dump(ctx: DumpContext, t: Task, fd: Fd, e: fdinfo_pb2.file_entry) -> None:
    e.reg.name, e.reg.pos, e.reg.mode = DEVTTY, 0, fd.stat.st_mode


def owns(e: fdinfo_pb2.file_entry) -> bool:
    return e.reg.name == DEVTTY


def open_(ctx: RestoreContext, e: fdinfo_pb2.file_entry) -> int:
    t = ctx.fd_broker.task
    if t is None:
        raise RestoreError(f"file {e.id}: /dev/tty must be opened by a restored process, not in flight")
    inj = t.injector
    flags = e.reg.flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_ASYNC)
    fd = inj.raw(nr.open, inj.put_str(DEVTTY), flags | O_NOCTTY | O_CLOEXEC, 0)
    if fd < 0:
        raise RestoreError(f"pid {t.pid}: open(/dev/tty): {os.strerror(-fd)} (its controlling terminal)")
    try:
        return getfd(t.pid, fd)
    finally:
        inj.call(nr.close, fd, what="close")


KIND = FdKind("/dev/tty", fdinfo_pb2.REG, "reg", matches, dump, open_, check=check, owns=owns)

