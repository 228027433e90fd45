"""The fd table: regular files (also directories, O_PATH fds and device nodes, by path) and pipes.

One file_entry per kernel open file description: fds that share a description (dup, fork) share
an id, so offset and flags stay shared after restore. On restore the engine opens each
description once itself and every task takes its fds from the engine with pidfd_getfd(), so
sharing between processes comes for free; pipes are made and refilled the same way.
"""

from __future__ import annotations

import fcntl
import os
import stat as st
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.compel import syscalls as nr
from engine.errors import DumpError, RestoreError, UnsupportedError
from engine.images.pb import fdinfo_pb2, pipe_pb2
from engine.native import lib

if TYPE_CHECKING:
    from engine.task import Task

O_ACCMODE = 0o3
O_WRONLY = 0o1
O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC, O_APPEND = 0o100, 0o200, 0o400, 0o1000, 0o2000
O_NONBLOCK = 0o4000
O_DIRECT = 0o40000
O_CLOEXEC = 0o2000000
O_PATH = 0o10000000
FD_CLOEXEC = 1
F_SETFD, F_SETFL, F_DUPFD_CLOEXEC = 2, 4, 1030
F_SETPIPE_SZ, F_GETPIPE_SZ = 1031, 1032
KCMP, KCMP_FILE = 312, 0
TEE = 276
SPLICE_F_NONBLOCK = 2
TTY_MAJORS = (4, 5, 136)
PIDFD_OPEN, PIDFD_GETFD = 434, 438


@dataclass
class FileTable:
    """files.img: every file description and path-opened file the images refer to."""

    entries: list[fdinfo_pb2.file_entry] = field(default_factory=list)
    _by_path: dict[tuple[str, int], int] = field(default_factory=dict)
    _descs: list[tuple[int, int, int, int]] = field(default_factory=list)  # (pid, fd, key, id)
    pipe_data: dict[int, tuple[int, bytes]] = field(default_factory=dict)  # pipe_id -> (size, data)

    def next_id(self) -> int:
        return len(self.entries) + 1

    def add_reg(self, name: str, flags: int, pos: int = 0, mode: int | None = None,
                size: int | None = None) -> int:
        fid = self.next_id()
        e = fdinfo_pb2.file_entry(type=fdinfo_pb2.REG, id=fid)
        self.entries.append(e)
        reg = e.reg
        reg.id, reg.flags, reg.pos, reg.name = fid, flags, pos, name
        _no_owner(reg.fown)
        if mode is not None:
            reg.mode = mode
        if size is not None:
            reg.size = size
        return fid

    def add_pipe(self, pipe_id: int, flags: int) -> int:
        fid = self.next_id()
        e = fdinfo_pb2.file_entry(type=fdinfo_pb2.PIPE, id=fid)
        self.entries.append(e)
        e.pipe.id, e.pipe.pipe_id, e.pipe.flags = fid, pipe_id, flags
        _no_owner(e.pipe.fown)
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

    def shared_with(self, pid: int, fd: int, key: int) -> int:
        """The id of a description already seen (in any process) that (pid, fd) also holds, or 0."""
        for p, f, k, fid in self._descs:
            if k == key and lib.st_syscall(KCMP, pid, p, KCMP_FILE, fd, f, 0) == 0:
                return fid
        return 0

    def remember(self, pid: int, fd: int, key: int, fid: int) -> None:
        self._descs.append((pid, fd, key, fid))

    def get(self, fid: int) -> fdinfo_pb2.file_entry:
        e = self.entries[fid - 1] if 0 < fid <= len(self.entries) else None
        if e is None or e.id != fid:
            e = next((x for x in self.entries if x.id == fid), None)
        if e is None:
            raise RestoreError(f"files.img has no file with id {fid}")
        return e


def _no_owner(fown) -> None:
    fown.uid = fown.euid = fown.signum = fown.pid_type = fown.pid = 0


# -- dump ------------------------------------------------------------------------------------------

def check_supported(ctx, t: Task) -> None:
    """Refuse, before anything touches the task, fds we cannot restore."""
    for info in t.facts["fds"]:
        target = info.target
        if target.startswith("pipe:["):
            continue
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
    ids = t.images["ids"]
    if any(o.images.get("fdinfo_owner") == ids.files_id for o in ctx.tasks if o is not t):
        return  # an fd table shared (CLONE_FILES) with a process dumped already
    t.images["fdinfo_owner"] = ids.files_id
    fdinfos: list[fdinfo_pb2.fdinfo_entry] = []
    for info in t.facts["fds"]:
        s = os.stat(f"/proc/{t.pid}/fd/{info.fd}")
        key = (s.st_dev << 64) | s.st_ino
        fid = files.shared_with(t.pid, info.fd, key)
        is_pipe = info.target.startswith("pipe:[")
        if not fid:
            flags = info.flags & ~O_CLOEXEC
            if is_pipe:
                fid = files.add_pipe(s.st_ino, flags & ~O_DIRECT)
                _capture_pipe(files, t.pid, info.fd, s.st_ino, flags)
            else:
                size = s.st_size if st.S_ISREG(s.st_mode) and flags & (O_ACCMODE | O_APPEND) != (
                    O_WRONLY | O_APPEND) else None
                fid = files.add_reg(info.target, flags, info.pos, s.st_mode, size)
            files.remember(t.pid, info.fd, key, fid)
        fdinfos.append(fdinfo_pb2.fdinfo_entry(
            id=fid, flags=FD_CLOEXEC if info.flags & O_CLOEXEC else 0,
            type=fdinfo_pb2.PIPE if is_pipe else fdinfo_pb2.REG, fd=info.fd))
    t.images["fdinfo"] = fdinfos


def _getfd(pid: int, fd: int) -> int:
    """A copy of another process's fd in the engine."""
    pidfd = lib.st_syscall(PIDFD_OPEN, pid, 0, 0, 0, 0, 0)
    if pidfd < 0:
        raise DumpError(f"pidfd_open({pid}): {os.strerror(-pidfd)}")
    try:
        ret = lib.st_syscall(PIDFD_GETFD, pidfd, fd, 0, 0, 0, 0)
        if ret < 0:
            raise DumpError(f"pidfd_getfd(pid {pid}, fd {fd}): {os.strerror(-ret)}")
        return ret
    finally:
        os.close(pidfd)


def _capture_pipe(files: FileTable, pid: int, fd: int, pipe_id: int, flags: int) -> None:
    """Queued pipe data, copied with tee() so the pipe keeps it (a leave-running dump loses nothing)."""
    mine = _getfd(pid, fd)
    try:
        size = fcntl.fcntl(mine, F_GETPIPE_SZ)
        if flags & O_ACCMODE != 0:  # a write end: data is read only from a read end
            files.pipe_data.setdefault(pipe_id, (size, b""))
            return
        r, w = os.pipe2(os.O_CLOEXEC)
        try:
            fcntl.fcntl(w, F_SETPIPE_SZ, size)
            n = lib.st_syscall(TEE, mine, w, size, SPLICE_F_NONBLOCK, 0, 0)
            data = os.read(r, n) if n > 0 else b""
        finally:
            os.close(r)
            os.close(w)
        files.pipe_data[pipe_id] = (size, data)
    finally:
        os.close(mine)


def write_pipe_data(ctx) -> None:
    entries, extras = [], []
    for pipe_id, (size, data) in sorted(ctx.files.pipe_data.items()):
        entries.append(pipe_pb2.pipe_data_entry(pipe_id=pipe_id, bytes=len(data), size=size))
        extras.append(data)
    if entries:
        ctx.images.write("pipes-data", entries, extras=extras)


# -- restore ---------------------------------------------------------------------------------------

@dataclass
class Broker:
    """The engine's own copies of every file description to restore, handed out with pidfd_getfd."""

    files: FileTable
    pipe_data: dict[int, tuple[int, bytes]] = field(default_factory=dict)
    fds: dict[int, int] = field(default_factory=dict)  # file id -> engine fd
    pipes: dict[int, tuple[int, int]] = field(default_factory=dict)  # pipe_id -> (r, w)

    def fd_for(self, fid: int) -> int:
        if fid not in self.fds:
            e = self.files.get(fid)
            if e.type == fdinfo_pb2.REG:
                self.fds[fid] = _open_reg(e.reg)
            elif e.type == fdinfo_pb2.PIPE:
                r, w = self._pipe(e.pipe.pipe_id)
                end = w if e.pipe.flags & O_ACCMODE == O_WRONLY else r
                fcntl.fcntl(end, F_SETFL, e.pipe.flags & O_NONBLOCK)  # flags live in the description
                self.fds[fid] = end
            else:
                raise RestoreError(f"file id {fid}: type {e.type} is not supported")
        return self.fds[fid]

    def _pipe(self, pipe_id: int) -> tuple[int, int]:
        if pipe_id not in self.pipes:
            r, w = os.pipe2(os.O_CLOEXEC)
            size, data = self.pipe_data.get(pipe_id, (0, b""))
            try:
                if size:
                    fcntl.fcntl(w, F_SETPIPE_SZ, size)
                if data:
                    os.write(w, data)
            except OSError as exc:
                raise RestoreError(f"pipe {pipe_id}: cannot restore {size} bytes of capacity / "
                                   f"{len(data)} bytes of data: {exc.strerror}") from exc
            self.pipes[pipe_id] = (r, w)
        return self.pipes[pipe_id]

    def close(self) -> None:
        for fd in set(self.fds.values()) | {x for p in self.pipes.values() for x in p}:
            os.close(fd)
        self.fds.clear()
        self.pipes.clear()


def _open_reg(reg) -> int:
    flags = reg.flags & ~(O_CREAT | O_EXCL | O_TRUNC)
    try:
        fd = os.open(reg.name, flags | O_NOCTTY | O_CLOEXEC)
    except OSError as exc:
        raise RestoreError(f"cannot open {reg.name}: {exc.strerror}") from exc
    if reg.HasField("size"):
        size = os.fstat(fd).st_size
        if size != reg.size:
            os.close(fd)
            raise RestoreError(f"file {reg.name} changed size since the dump ({reg.size} -> {size})")
    if reg.pos and not flags & O_PATH:
        os.lseek(fd, reg.pos, os.SEEK_SET)
    return fd


def restore(ctx, t: Task) -> None:
    """Take every fd from the engine, placing them in ascending order.

    In ascending order the lowest free fd that pidfd_getfd() returns is never a target fd still
    to be placed, so nothing placed gets clobbered.
    """
    if not t.facts.get("own_files_table"):
        return  # the fd table is shared with a process restored before (CLONE_FILES)
    inj = t.injector
    entries = sorted(t.images["fdinfo"], key=lambda e: e.fd)
    pidfd = t.facts["engine_pidfd"]
    if any(e.fd == pidfd for e in entries):
        top = max(e.fd for e in entries) + 1
        newfd = inj.call(nr.fcntl, pidfd, F_DUPFD_CLOEXEC, top, what="fcntl(F_DUPFD_CLOEXEC)")
        inj.call(nr.close, pidfd, what="close")
        pidfd = t.facts["engine_pidfd"] = newfd
    for fdi in entries:
        src = ctx.broker.fd_for(fdi.id)
        fd = inj.raw(PIDFD_GETFD, pidfd, src, 0)
        if fd < 0:
            raise RestoreError(f"pid {t.pid}: pidfd_getfd for fd {fdi.fd}: {os.strerror(-fd)}")
        if fd != fdi.fd:
            inj.call(nr.dup3, fd, fdi.fd, O_CLOEXEC if fdi.flags & FD_CLOEXEC else 0,
                     what=f"dup3 to fd {fdi.fd}")
            inj.call(nr.close, fd, what="close")
        else:
            inj.call(nr.fcntl, fd, F_SETFD, fdi.flags & FD_CLOEXEC, what="fcntl(F_SETFD)")


def close_engine_fd(ctx, t: Task) -> None:
    """Each fd table drops its handle on the engine once its fds are in place."""
    if t.facts.get("own_files_table"):
        t.injector.call(nr.close, t.facts["engine_pidfd"], what="close(engine pidfd)")


def open_in_task(t: Task, path: str, flags: int) -> int:
    """open() injected into the task; the path travels through the scratch area."""
    inj = t.injector
    inj.put(path.encode() + b"\0")
    flags &= ~(O_CREAT | O_EXCL | O_TRUNC)
    ret = inj.raw(nr.openat, -100, inj.scratch, flags | O_NOCTTY, 0)
    if ret < 0:
        raise RestoreError(f"pid {t.pid}: cannot open {path}: {os.strerror(-ret)}")
    return ret


