"""FIFOs (named pipes): every open file description with its flags, the data in flight, unlinked ones.

A FIFO's file_entry holds, as CRIU's do, a fifo_entry (the pipe, keyed by the inode number) and the
reg_file_entry of its path (flags, owner; `regf_id` is the entry's own id). The data is copied at dump
with tee() from a read end, as for pipes (pipebuf), into fifo-data.img.

At restore the engine first opens the FIFO O_RDWR itself (that never blocks and keeps a reader and a
writer while the tree's descriptions are opened; a FIFO unlinked at dump is made again at its path for
that open and unlinked right after), refills it, then opens one description per description the tree
had through /proc/self/fd of that first one, so every description reaches the same pipe.
"""

from __future__ import annotations

import fcntl
import os
import stat as st
from typing import TYPE_CHECKING

from engine.abi.consts import (
    F_SETFL,
    O_ACCMODE,
    O_APPEND,
    O_CLOEXEC,
    O_DIRECT,
    O_NONBLOCK,
    O_PATH,
    O_RDONLY,
    O_RDWR,
    O_WRONLY,
)
from engine.compel.pidfd import getfd
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import fdinfo_pb2
from engine.objects import taskroot, userns
from engine.objects.files import pipebuf
from engine.objects.files.ghost import free_name, remove_dirs
from engine.objects.files.kind import Fd, FdKind
from engine.objects.files.paths import check_path
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

DELETED = " (deleted)"
FIFO_FLAGS = O_NONBLOCK | O_APPEND | O_DIRECT  # what F_SETFL sets again on a reopened description


@record
class FifoDump:
    data: pipebuf.PipeData = field(default_factory=dict)  # pipe_id -> (capacity, data)


@record
class FifoRestore:
    data: pipebuf.PipeData = field(default_factory=dict)
    keepers: dict[int, int] = field(default_factory=dict)  # pipe_id -> the engine's own O_RDWR fd
    extra: list[int] = field(default_factory=list)  # the descriptions opened for the tree

    def owned_fds(self) -> list[int]:
        fds = list(self.keepers.values()) + self.extra
        self.keepers.clear()
        self.extra.clear()
        return fds


def matches(fd: Fd) -> bool:
    return fd.target.startswith("/") and st.S_ISFIFO(fd.stat.st_mode) and not fd.info.flags & O_PATH


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    if fd.stat.st_ino >= 1 << 32:
        raise UnsupportedError(f"{fd.where}: a FIFO whose inode number does not fit the image's pipe_id")
    if not fd.target.endswith(DELETED):
        check_path(t.pid, fd.target, fd.stat, fd.where)


def dump(ctx: DumpContext, t: Task, fd: Fd, e: fdinfo_pb2.file_entry) -> None:
    reg = e.reg
    unlinked = fd.target.endswith(DELETED)
    reg.name = fd.target.removesuffix(DELETED) if unlinked else fd.target
    reg.pos, reg.mode = 0, fd.stat.st_mode
    if unlinked:
        x = reg.stasis
        x.unlinked, x.uid, x.gid = True, fd.stat.st_uid, fd.stat.st_gid
    e.fifo.id, e.fifo.pipe_id, e.fifo.regf_id = e.id, fd.stat.st_ino, e.id
    _capture(ctx, fd)


def _capture(ctx: DumpContext, fd: Fd) -> None:
    data = ctx.files.state(FifoDump).data
    pipe_id = fd.stat.st_ino
    if data.get(pipe_id, (0, b""))[1]:
        return
    readable = fd.info.flags & O_ACCMODE != O_WRONLY
    try:
        # a write-only FIFO may still hold data: then read it through a read end of our own
        mine = getfd(fd.pid, fd.num) if readable else os.open(f"/proc/{fd.pid}/fd/{fd.num}",
                                                              O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    except OSError as exc:
        raise UnsupportedError(f"{fd.where}: cannot read the FIFO's data: {exc.strerror}") from exc
    try:
        size = pipebuf.capacity(mine)
        data[pipe_id] = (size, pipebuf.peek(mine, size))
    finally:
        os.close(mine)


def write_images(ctx: DumpContext) -> None:
    pipebuf.write_image(ctx, "fifo-data", ctx.files.state(FifoDump).data)


def load_images(ctx: RestoreContext) -> None:
    ctx.files.state(FifoRestore).data = pipebuf.read_image(ctx, "fifo-data")


def _keeper(st_: FifoRestore, e: fdinfo_pb2.file_entry) -> int:
    pipe_id, reg = e.fifo.pipe_id, e.reg
    if pipe_id in st_.keepers:
        return st_.keepers[pipe_id]
    what = f"FIFO {reg.name}"
    unlinked = reg.HasField("stasis") and reg.stasis.unlinked
    path = taskroot.task_path(reg.name)
    made: list[str] = []
    if unlinked:
        path, made = free_name(reg.name, f"fifo-{pipe_id}")
        try:
            with userns.creating():
                os.mkfifo(path, reg.mode & 0o7777)
        except OSError as exc:
            remove_dirs(made)
            raise RestoreError(f"{what} (unlinked): cannot make it again at {path}: {exc.strerror}") from exc
    try:
        if unlinked:
            os.chown(path, reg.stasis.uid, reg.stasis.gid)
            os.chmod(path, reg.mode & 0o7777)
        fd = os.open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
    except OSError as exc:
        raise RestoreError(f"{what}: cannot open it: {exc.strerror}") from exc
    finally:
        if unlinked:
            os.unlink(path)
            remove_dirs(made)
    if not st.S_ISFIFO(os.fstat(fd).st_mode):
        os.close(fd)
        raise RestoreError(f"{what}: the path is not a FIFO any more")
    st_.keepers[pipe_id] = fd
    size, data = st_.data.get(pipe_id, (0, b""))
    pipebuf.refill(fd, size, data, what)
    return fd


def open_(ctx: RestoreContext, e: fdinfo_pb2.file_entry) -> int:
    st_ = ctx.files.state(FifoRestore)
    keeper = _keeper(st_, e)
    flags = e.reg.flags
    try:
        fd = os.open(f"/proc/self/fd/{keeper}", (flags & O_ACCMODE) | O_NONBLOCK | O_CLOEXEC)
    except OSError as exc:
        raise RestoreError(f"FIFO {e.reg.name}: cannot open a description: {exc.strerror}") from exc
    st_.extra.append(fd)
    fcntl.fcntl(fd, F_SETFL, flags & FIFO_FLAGS)
    return fd


KIND = FdKind("FIFO", fdinfo_pb2.FIFO, "reg", matches, dump, open_, check=check, write_images=write_images,
              load_images=load_images)
