"""Pipes: every open file description of each end, with its flags, and the data in flight.

The data is copied at dump with tee(), so the pipe keeps it (a leave-running dump loses nothing). At
restore the engine makes the pipe once, refills it, and opens one description per description the
tree had: the two ends pipe2() gave, then more by reopening /proc/self/fd/N, so descriptions that were
separate (their own O_NONBLOCK, O_DIRECT) stay separate. Packet-mode pipes are kept when empty: the
image format has no packet boundaries.
"""

from __future__ import annotations

import fcntl
import os
from typing import TYPE_CHECKING

from engine.abi.consts import (
    F_SETFL,
    O_ACCMODE,
    O_CLOEXEC,
    O_DIRECT,
    O_NONBLOCK,
    O_RDONLY,
    O_WRONLY,
)
from engine.compel.pidfd import getfd
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import fdinfo_pb2
from engine.objects.files import pipebuf
from engine.objects.files.kind import Fd, FdKind
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task


@record
class PipeDump:
    data: dict[int, tuple[int, bytes]] = field(default_factory=dict)  # pipe_id -> (capacity, data)
    direct: dict[int, bool] = field(default_factory=dict)  # pipe_id -> packet mode of its descriptions


@record
class PipeRestore:
    data: dict[int, tuple[int, bytes]] = field(default_factory=dict)
    made: dict[int, tuple[int, int]] = field(default_factory=dict)  # pipe_id -> (r, w) from pipe2
    used: set[tuple[int, int]] = field(default_factory=set)  # (pipe_id, end) handed out as they are
    direct: set[int] = field(default_factory=set)  # packet-mode pipes (a write end had O_DIRECT)
    extra: list[int] = field(default_factory=list)  # reopened descriptions

    def owned_fds(self) -> list[int]:
        """For the broker to close at the end (it closes each fd once)."""
        fds = [x for p in self.made.values() for x in p] + self.extra
        self.made.clear()
        self.extra.clear()
        return fds


def matches(fd: Fd) -> bool:
    return fd.target.startswith("pipe:[")


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    """pipe2(O_DIRECT) marks the write end only (the kernel clears it on the read end)."""
    if fd.info.flags & O_ACCMODE == O_RDONLY:
        return
    st = ctx.files.state(PipeDump)
    direct = bool(fd.info.flags & O_DIRECT)
    if st.direct.setdefault(fd.stat.st_ino, direct) != direct:
        raise UnsupportedError(f"{fd.where}: a pipe with packet-mode and stream write ends (not supported)")


def dump(ctx: DumpContext, t: Task, fd: Fd, e: fdinfo_pb2.file_entry) -> None:
    e.pipe.pipe_id = fd.stat.st_ino
    _capture(ctx, fd)


def _capture(ctx: DumpContext, fd: Fd) -> None:
    st = ctx.files.state(PipeDump)
    pipe_id = fd.stat.st_ino
    mine = getfd(fd.pid, fd.num)
    try:
        size = pipebuf.capacity(mine)
        if fd.info.flags & O_ACCMODE != O_RDONLY:  # a write end: data is read only from a read end
            st.data.setdefault(pipe_id, (size, b""))
            return
        if pipe_id in st.data and st.data[pipe_id][1]:
            return
        data = pipebuf.peek(mine, size)
        if data and st.direct.get(pipe_id):
            raise UnsupportedError(f"{fd.where}: a packet-mode pipe holds data; the image format has "
                                   "no packet boundaries (not supported)")
        st.data[pipe_id] = (size, data)
    finally:
        os.close(mine)


def write_images(ctx: DumpContext) -> None:
    pipebuf.write_image(ctx, "pipes-data", ctx.files.state(PipeDump).data)


def load_images(ctx: RestoreContext) -> None:
    st = ctx.files.state(PipeRestore)
    st.data = pipebuf.read_image(ctx, "pipes-data")
    st.direct = {e.pipe.pipe_id for e in ctx.files.entries
                 if e.type == fdinfo_pb2.PIPE and e.pipe.flags & O_DIRECT}


def open_(ctx: RestoreContext, e: fdinfo_pb2.file_entry) -> int:
    st = ctx.files.state(PipeRestore)
    p = e.pipe
    write = p.flags & O_ACCMODE == O_WRONLY
    r, w = _made(st, p.pipe_id, O_DIRECT if p.pipe_id in st.direct else 0)
    end = w if write else r
    if (p.pipe_id, end) not in st.used:
        st.used.add((p.pipe_id, end))
        fcntl.fcntl(end, F_SETFL, p.flags & (O_NONBLOCK | O_DIRECT))
        return end
    try:
        fd = os.open(f"/proc/self/fd/{end}", (O_WRONLY if write else O_RDONLY) | O_NONBLOCK | O_CLOEXEC)
    except OSError as exc:
        raise RestoreError(f"pipe {p.pipe_id}: cannot open another description: {exc.strerror}") from exc
    st.extra.append(fd)
    fcntl.fcntl(fd, F_SETFL, p.flags & (O_NONBLOCK | O_DIRECT))  # packet mode is a flag of the description
    return fd


def _made(st: PipeRestore, pipe_id: int, direct: int) -> tuple[int, int]:
    if pipe_id not in st.made:
        r, w = os.pipe2(os.O_CLOEXEC | direct)
        st.made[pipe_id] = (r, w)
        size, data = st.data.get(pipe_id, (0, b""))
        pipebuf.refill(w, size, data, f"pipe {pipe_id}")
    return st.made[pipe_id]


def ext_id(e: fdinfo_pb2.file_entry) -> str:
    return f"pipe:[{e.pipe.pipe_id}]"


KIND = FdKind("pipe", fdinfo_pb2.PIPE, "pipe", matches, dump, open_, check=check, write_images=write_images,
              load_images=load_images, ext_id=ext_id)
