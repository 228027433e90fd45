"""The fd table and regular files (also directories, O_PATH fds and device nodes, by path).

One file_entry per kernel open file description: fds that share a description (dup, fork) share
an id, so offset and flags stay shared after restore.
"""

from __future__ import annotations

import os
import stat as st
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.compel import syscalls as nr
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import fdinfo_pb2
from engine.native import lib

if TYPE_CHECKING:
    from engine.task import Task

O_ACCMODE = 0o3
O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC, O_APPEND = 0o100, 0o200, 0o400, 0o1000, 0o2000
O_CLOEXEC = 0o2000000
O_PATH = 0o10000000
FD_CLOEXEC = 1
F_SETFD = 2
KCMP = 312
KCMP_FILE = 0
AT_FDCWD = -100
TTY_MAJORS = (4, 5, 136)


@dataclass
class FileTable:
    """files.img: every file description and path-opened file the images refer to."""

    entries: list[fdinfo_pb2.file_entry] = field(default_factory=list)
    _by_path: dict[tuple[str, int], int] = field(default_factory=dict)

    def next_id(self) -> int:
        return len(self.entries) + 1

    def add_reg(self, name: str, flags: int, pos: int = 0, mode: int | None = None,
                size: int | None = None) -> int:
        fid = self.next_id()
        e = fdinfo_pb2.file_entry(type=fdinfo_pb2.REG, id=fid)
        self.entries.append(e)
        reg = e.reg
        reg.id, reg.flags, reg.pos, reg.name = fid, flags, pos, name
        reg.fown.uid = reg.fown.euid = reg.fown.signum = reg.fown.pid_type = reg.fown.pid = 0
        if mode is not None:
            reg.mode = mode
        if size is not None:
            reg.size = size
        return fid

    def by_path(self, name: str, flags: int) -> int:
        """A path-opened file (exe, mapping, cwd): one entry per (path, open mode)."""
        key = (name, flags)
        if key not in self._by_path:
            try:
                mode = os.stat(name).st_mode
            except OSError:
                mode = None
            self._by_path[key] = self.add_reg(name, flags, mode=mode)
        return self._by_path[key]

    def get(self, fid: int) -> fdinfo_pb2.file_entry:
        e = self.entries[fid - 1] if 0 < fid <= len(self.entries) else None
        if e is None or e.id != fid:
            e = next((x for x in self.entries if x.id == fid), None)
        if e is None:
            raise RestoreError(f"files.img has no file with id {fid}")
        return e


def _same_description(pid: int, fd1: int, fd2: int) -> bool:
    return lib.st_syscall(KCMP, pid, pid, KCMP_FILE, fd1, fd2, 0) == 0


def check_supported(ctx, t: Task) -> None:
    """Refuse, before anything touches the task, fds we cannot restore."""
    for info in t.facts["fds"]:
        target = info.target
        if not target.startswith("/"):
            kind = target.split(":", 1)[0]
            raise UnsupportedError(f"pid {t.pid} fd {info.fd}: {target} ({kind} fds are not supported yet)")
        if target.endswith(" (deleted)"):
            raise UnsupportedError(f"pid {t.pid} fd {info.fd}: {target} is unlinked (not supported yet)")
        s = os.stat(f"/proc/{t.pid}/fd/{info.fd}")
        if st.S_ISFIFO(s.st_mode) or st.S_ISSOCK(s.st_mode):
            raise UnsupportedError(f"pid {t.pid} fd {info.fd}: {target} is a FIFO/socket (not supported yet)")
        if st.S_ISCHR(s.st_mode) and os.major(s.st_rdev) in TTY_MAJORS and not ctx.opts.shell_job:
            raise UnsupportedError(f"pid {t.pid} fd {info.fd}: terminal {target}; use --shell-job")


def dump(ctx, t: Task) -> None:
    files: FileTable = ctx.files
    fdinfos: list[fdinfo_pb2.fdinfo_entry] = []
    seen: list[tuple[int, int, int]] = []  # (fd, ino key, file id)
    for info in t.facts["fds"]:
        s = os.stat(f"/proc/{t.pid}/fd/{info.fd}")
        key = (s.st_dev << 64) | s.st_ino
        fid = next((f for fd, k, f in seen if k == key and _same_description(t.pid, fd, info.fd)), 0)
        if not fid:
            flags = info.flags & ~O_CLOEXEC
            size = s.st_size if st.S_ISREG(s.st_mode) and flags & (O_ACCMODE | O_APPEND) != (
                1 | O_APPEND) else None
            fid = files.add_reg(info.target, flags, info.pos, s.st_mode, size)
        seen.append((info.fd, key, fid))
        fdinfos.append(fdinfo_pb2.fdinfo_entry(id=fid, flags=FD_CLOEXEC if info.flags & O_CLOEXEC else 0,
                                               type=fdinfo_pb2.REG, fd=info.fd))
    t.images["fdinfo"] = fdinfos


def restore(ctx, t: Task) -> None:
    """Open each description once, then place fds in ascending order.

    Placing in ascending order means the lowest free fd that open() returns is never a target fd
    still to be placed, so nothing placed gets clobbered.
    """
    inj = t.injector
    placed: dict[int, int] = {}  # file id -> fd holding it
    for fdi in sorted(t.images["fdinfo"], key=lambda e: e.fd):
        if fdi.type != fdinfo_pb2.REG:
            raise RestoreError(f"fd {fdi.fd}: file type {fdi.type} is not supported")
        if fdi.id in placed:
            inj.call(nr.dup3, placed[fdi.id], fdi.fd, O_CLOEXEC if fdi.flags & FD_CLOEXEC else 0,
                     what=f"dup3 to fd {fdi.fd}")
            continue
        reg = ctx.files.get(fdi.id).reg
        fd = open_in_task(t, reg.name, reg.flags)
        if fd != fdi.fd:
            inj.call(nr.dup3, fd, fdi.fd, 0, what=f"dup3 to fd {fdi.fd}")
            inj.call(nr.close, fd, what="close")
        if fdi.flags & FD_CLOEXEC:
            inj.call(nr.fcntl, fdi.fd, F_SETFD, FD_CLOEXEC, what="fcntl(F_SETFD)")
        if reg.pos and not reg.flags & O_PATH:
            inj.call(nr.lseek, fdi.fd, reg.pos, os.SEEK_SET, what=f"lseek fd {fdi.fd}")
        if reg.HasField("size"):
            size = os.stat(f"/proc/{t.pid}/fd/{fdi.fd}").st_size
            if size != reg.size:
                raise RestoreError(f"file {reg.name} changed size since the dump ({reg.size} -> {size})")
        placed[fdi.id] = fdi.fd


def open_in_task(t: Task, path: str, flags: int) -> int:
    """open() injected into the task; the path travels through the scratch area."""
    inj = t.injector
    inj.put(path.encode() + b"\0")
    flags &= ~(O_CREAT | O_EXCL | O_TRUNC)
    ret = inj.raw(nr.openat, AT_FDCWD, inj.scratch, flags | O_NOCTTY, 0)
    if ret < 0:
        raise RestoreError(f"pid {t.pid}: cannot open {path}: {os.strerror(-ret)}")
    return ret
