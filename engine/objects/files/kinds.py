"""The table of fd kinds, in the order they are tried: the first whose `matches` is true owns the fd.
Adding a kind: its module (one KIND = FdKind(...)) and one line here."""

from __future__ import annotations

from engine.images.pb import fdinfo_pb2
from engine.objects.files import (
    devices,
    devtty,
    epoll,
    eventfd,
    fanotify,
    fifo,
    inet,
    inotify,
    io_uring,
    memfd,
    mqueue,
    netlink,
    packet,
    paths,
    pipes,
    pty,
    signalfd,
    timerfd,
    tty,
    unix,
)
from engine.objects.files.kind import Fd, FdKind

KINDS: tuple[FdKind, ...] = (
    memfd.KIND,  # before paths: a memfd looks like a deleted regular file
    devtty.KIND,  # before paths and tty: /dev/tty, the caller's controlling terminal
    mqueue.KIND,  # before paths: a queue is a regular file of the mqueue file system
    paths.KIND,  # regular files, directories, O_PATH fds of anything
    pty.KIND,  # before tty: /dev/ptmx and /dev/pts/N
    tty.KIND,
    devices.KIND,
    pipes.KIND,
    eventfd.KIND,
    signalfd.KIND,
    timerfd.KIND,
    inotify.KIND,
    fanotify.KIND,
    fifo.KIND,
    epoll.KIND,
    io_uring.KIND,
    unix.KIND,  # sockets: by SO_DOMAIN
    inet.KIND,
    netlink.KIND,
    packet.KIND,
)
BY_TYPE: dict[int, list[FdKind]] = {}  # restore opens a description by its type (and `owns`)
for _k in KINDS:
    BY_TYPE.setdefault(_k.fd_type, []).append(_k)


def opener_of(e: fdinfo_pb2.file_entry) -> FdKind | None:
    """The kind that restores a files.img entry: the first of its type that owns it."""
    return next((k for k in BY_TYPE.get(e.type, ()) if k.owns is None or k.owns(e)), None)


def kind_of(fd: Fd) -> FdKind | None:
    return next((k for k in KINDS if k.matches(fd)), None)
