"""pidfds: a handle on a process, and copies of its fds taken from outside (pidfd_getfd)."""

from __future__ import annotations

import os

from engine.abi import nr
from engine.native import lib


def open_pidfd(pid: int) -> int:
    fd = lib.st_syscall(nr.pidfd_open, pid, 0, 0, 0, 0, 0)
    if fd < 0:
        raise OSError(-fd, f"pidfd_open({pid}): {os.strerror(-fd)}")
    return fd


def getfd(pid: int, fd: int) -> int:
    """A copy, in the engine, of fd `fd` of process `pid` (the same open file description)."""
    pidfd = open_pidfd(pid)
    try:
        ret = lib.st_syscall(nr.pidfd_getfd, pidfd, fd, 0, 0, 0, 0)
        if ret < 0:
            raise OSError(-ret, f"pidfd_getfd(pid {pid}, fd {fd}): {os.strerror(-ret)}")
        return ret
    finally:
        os.close(pidfd)


def queued_bytes(pid: int, fd: int) -> int:
    """FIONREAD of another process's fd, through a copy of it (the same description)."""
    import fcntl
    import struct

    from engine.abi.consts import FIONREAD

    mine = getfd(pid, fd)
    try:
        return int(struct.unpack("<i", fcntl.ioctl(mine, FIONREAD, b"\0\0\0\0"))[0])
    finally:
        os.close(mine)

