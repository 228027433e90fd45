"""mount(2) and mknod for building a flavor's root inside the container's private mount namespace."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

MS_RDONLY = 0x1
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18

_libc = ctypes.CDLL(None, use_errno=True)


def mount(source: str, target: Path | str, fstype: str | None, flags: int, data: str | None = None) -> None:
    ret = _libc.mount(
        source.encode(),
        str(target).encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount({source!r}, {str(target)!r}, {fstype!r}, {flags:#x}): {os.strerror(err)}")


def bind(source: Path | str, target: Path, readonly: bool) -> None:
    mount(str(source), target, None, MS_BIND | MS_REC)
    if readonly:  # a bind mount takes MS_RDONLY only on a remount
        mount("none", target, None, MS_BIND | MS_REMOUNT | MS_RDONLY)


def tmpfs(name: str, target: Path, mode: int) -> None:
    mount(name, target, "tmpfs", 0, f"mode={mode:o}")


def mkchar(path: Path, major: int, minor: int, mode: int = 0o666) -> None:
    os.mknod(path, 0o600 | 0o020000, os.makedev(major, minor))
    os.chmod(path, mode)  # not subject to the umask
