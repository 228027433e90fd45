"""What pipes and FIFOs share: the queued data of a pipe buffer, copied at dump with tee() (the pipe
keeps it), written to a pipe_data_entry image (pipes-data, fifo-data) and put back at restore."""

from __future__ import annotations

import fcntl
import os
from typing import TYPE_CHECKING

from engine.abi import nr
from engine.abi.consts import F_GETPIPE_SZ, F_SETPIPE_SZ, SPLICE_F_NONBLOCK
from engine.errors import ImageError, RestoreError
from engine.images.pb import pipe_pb2
from engine.native import lib

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext

# pipe_id -> (capacity, data)
PipeData = dict[int, tuple[int, bytes]]


def capacity(fd: int) -> int:
    return fcntl.fcntl(fd, F_GETPIPE_SZ)


def peek(fd: int, size: int) -> bytes:
    """The data queued in the pipe behind fd (a readable end), left in place."""
    r, w = os.pipe2(os.O_CLOEXEC)
    try:
        fcntl.fcntl(w, F_SETPIPE_SZ, size)
        n = lib.st_syscall(nr.tee, fd, w, size, SPLICE_F_NONBLOCK, 0, 0)
        return os.read(r, n) if n > 0 else b""
    finally:
        os.close(r)
        os.close(w)


def refill(w: int, size: int, data: bytes, what: str) -> None:
    """Give the pipe behind w (a writable end) its capacity and its data back."""
    try:
        if size:
            fcntl.fcntl(w, F_SETPIPE_SZ, size)
        if data:
            os.write(w, data)
    except OSError as exc:
        raise RestoreError(f"{what}: cannot restore {size} bytes of capacity / {len(data)} bytes of data: "
                           f"{exc.strerror}") from exc


def write_image(ctx: DumpContext, image: str, data: PipeData) -> None:
    entries, extras = [], []
    for pipe_id, (size, buf) in sorted(data.items()):
        entries.append(pipe_pb2.pipe_data_entry(pipe_id=pipe_id, bytes=len(buf), size=size))
        extras.append(buf)
    if entries:
        ctx.images.write(image, entries, extras=extras)


def read_image(ctx: RestoreContext, image: str) -> PipeData:
    out: PipeData = {}
    for entry in ctx.images.read_entries(image, missing_ok=True):
        m = entry.message
        buf = bytes(entry.extra or b"")
        if len(buf) != m.bytes:
            raise ImageError(ctx.images.path(image), f"pipe {m.pipe_id}: {len(buf)} bytes of data, "
                             f"the entry says {m.bytes}")
        out[m.pipe_id] = (m.size if m.HasField("size") else 0, buf)
    return out
