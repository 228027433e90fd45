"""inotify: every watch with its mask and watch descriptor, on the same inode.

The watches are read from fdinfo (`inotify wd:N ino:I sdev:D mask:M ignored_mask:0 fhandle-bytes:B
fhandle-type:T f_handle:H`); the watched inode is found again through its file handle
(open_by_handle_at) and must still be reachable by a path, which the image keeps. At restore the engine
makes the instance and adds each watch through an O_PATH fd of that path, with its old number
(INOTIFY_IOC_SETNEXTWD; without it the numbers must be 1, 2, ... as a fresh instance gives them out).
Events already queued cannot be read without consuming them: an instance that holds any is refused.
"""

from __future__ import annotations

import fcntl
import os
import struct
from typing import TYPE_CHECKING

from engine import proc
from engine.abi import nr
from engine.abi.consts import (
    IN_MASK_ADD,
    IN_MASK_CREATE,
    IN_NONBLOCK,
    INOTIFY_IOC_SETNEXTWD,
    O_CLOEXEC,
    O_PATH,
)
from engine.compel.pidfd import queued_bytes
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import fdinfo_pb2, fh_pb2
from engine.native import ffi, lib
from engine.objects import taskroot
from engine.objects.files.kind import Fd, FdKind
from engine.record import record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

MAX_HANDLE = 128


@record
class Watch:
    wd: int
    ino: int
    sdev: int
    mask: int
    handle_type: int
    handle: bytes
    path: str = ""


def matches(fd: Fd) -> bool:
    return fd.target == "anon_inode:inotify"


def _watches(pid: int, fd: int) -> list[Watch]:
    out = []
    with open(f"/proc/{pid}/fdinfo/{fd}") as f:
        for line in f:
            if not line.startswith("inotify "):
                continue
            kv = dict(w.split(":", 1) for w in line.split()[1:])
            nbytes = int(kv["fhandle-bytes"], 16)
            out.append(Watch(int(kv["wd"]), int(kv["ino"], 16), int(kv["sdev"], 16), int(kv["mask"], 16),
                             int(kv["fhandle-type"], 16), bytes.fromhex(kv["f_handle"])[:nbytes]))
    return out


def dev_to_mounts(pid: int) -> dict[int, str]:
    """The kernel's internal dev numbers (major << 20 | minor) of the task's mounts, to a mount point."""
    out: dict[int, str] = {}
    for m in proc.mounts(pid):
        out.setdefault(m.kdev, m.point)
    return out


def open_handle(pid: int, w: Watch) -> int:
    mounts = dev_to_mounts(pid)
    mount = mounts.get(w.sdev)
    if mount is None:
        raise OSError(2, "no mount of the task has the watched inode's device")
    return _open_at(f"/proc/{pid}/root{mount}", w)


def _open_at(mount: str, w: Watch) -> int:
    mfd = os.open(mount, os.O_RDONLY | O_CLOEXEC)  # an O_PATH fd is EBADF here
    try:
        fh = ffi.new("char[]", 8 + MAX_HANDLE)
        struct.pack_into("<Ii", ffi.buffer(fh), 0, len(w.handle), w.handle_type)
        ffi.buffer(fh)[8:8 + len(w.handle)] = w.handle
        ret = lib.st_syscall(nr.open_by_handle_at, mfd, int(ffi.cast("uintptr_t", fh)), O_PATH | O_CLOEXEC, 0,
                             0, 0)
        if ret < 0:
            raise OSError(-ret, f"open_by_handle_at: {os.strerror(-ret)}")
        return ret
    finally:
        os.close(mfd)


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    queued = queued_bytes(t.pid, fd.num)
    if queued:
        raise UnsupportedError(f"{fd.where}: {queued} bytes of inotify events are queued; they cannot be "
                               "read without taking them from the program (not supported)")
    watches = _watches(t.pid, fd.num)
    if not can_set_wd() and [w.wd for w in sorted(watches, key=lambda w: w.wd)] != list(
            range(1, len(watches) + 1)):
        raise UnsupportedError(f"{fd.where}: watch numbers {[w.wd for w in watches]} cannot be given again "
                               "without INOTIFY_IOC_SETNEXTWD")
    for w in watches:
        try:
            path = watched_path(t.pid, w)
        except OSError as exc:
            raise UnsupportedError(f"{fd.where}: watch {w.wd} (inode {w.ino}): the watched file cannot be "
                                   f"found again: {exc.strerror}") from exc
        if path.endswith(" (deleted)") or not path.startswith("/"):
            raise UnsupportedError(f"{fd.where}: watch {w.wd} is on a removed file ({path}): not supported")


def dump(ctx: DumpContext, t: Task, fd: Fd, e: fdinfo_pb2.file_entry) -> None:
    for w in sorted(_watches(t.pid, fd.num), key=lambda w: w.wd):
        x = e.ify.wd.add(id=e.id, i_ino=w.ino, mask=w.mask, ignored_mask=0, s_dev=w.sdev, wd=w.wd)
        fill_handle(x.f_handle, w, watched_path(t.pid, w))


def _via_engine(pid: int, w: Watch) -> str | None:
    """When the task's mounts of that file system are binds of parts of it (a mount namespace of its own)
    and the engine mounts all of it: the inode's path in the file system, through the engine's mount, put
    under the task's mount that shows it."""
    task = [m for m in proc.mounts(pid) if m.kdev == w.sdev]
    if not task or any(m.root == "/" for m in task):
        return None
    whole = next((m for m in proc.mounts("self") if m.kdev == w.sdev and m.root == "/"), None)
    if whole is None:
        return None
    hfd = _open_at(whole.point, w)
    try:
        path = os.readlink(f"/proc/self/fd/{hfd}")
    finally:
        os.close(hfd)
    if whole.point != "/":
        path = path[len(whole.point.rstrip("/")):] or "/"
    for m in task:
        r = m.root.rstrip("/")
        if path == m.root or path.startswith(r + "/"):
            return (m.point.rstrip("/") + path[len(r):]) or "/"
    return None


def watched_path(pid: int, w: Watch) -> str:
    """Where the watched inode is, in the task's root (found again through its file handle)."""
    found = _via_engine(pid, w)
    if found is not None:
        return found
    hfd = open_handle(pid, w)
    try:
        path = _task_readlink(pid, hfd)
    finally:
        os.close(hfd)
    root = os.readlink(f"/proc/{pid}/root")
    if root != "/" and path.startswith(root):
        path = path[len(root):] or "/"
    return path


def _task_readlink(pid: int, fd: int) -> str:
    """The path of the engine's fd as the task's mount namespace names it."""
    if os.stat(f"/proc/{pid}/ns/mnt").st_ino == os.stat("/proc/self/ns/mnt").st_ino:
        return os.readlink(f"/proc/self/fd/{fd}")
    from engine.abi.consts import CLONE_NEWNS
    from engine.objects import nsworker

    fds = os.open("/proc/self/fd", os.O_PATH | O_CLOEXEC)  # /proc/self means nothing in there
    ns = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY | O_CLOEXEC)
    try:
        return str(nsworker.run([(ns, CLONE_NEWNS)], lambda: os.readlink(str(fd), dir_fd=fds),
                                f"pid {pid}: the path of a watched file"))
    finally:
        os.close(ns)
        os.close(fds)


def fill_handle(fh: fh_pb2.fh_entry, w: Watch, path: str) -> None:
    fh.bytes, fh.type, fh.path = len(w.handle), w.handle_type, path
    padded = w.handle + b"\0" * (-len(w.handle) % 8)
    fh.handle.extend(struct.unpack(f"<{len(padded) // 8}Q", padded))


def can_set_wd() -> bool:
    fd = lib.st_syscall(nr.inotify_init1, O_CLOEXEC, 0, 0, 0, 0, 0)
    if fd < 0:
        return False
    try:
        fcntl.ioctl(fd, INOTIFY_IOC_SETNEXTWD, 1)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def open_(ctx: RestoreContext, e: fdinfo_pb2.file_entry) -> int:
    ify = e.ify
    fd = lib.st_syscall(nr.inotify_init1, (ify.flags & IN_NONBLOCK) | O_CLOEXEC, 0, 0, 0, 0, 0)
    if fd < 0:
        raise RestoreError(f"inotify_init1: {os.strerror(-fd)}")
    try:
        for w in sorted(ify.wd, key=lambda w: w.wd):
            if w.wd != 1 or len(ify.wd) > 1:
                try:
                    fcntl.ioctl(fd, INOTIFY_IOC_SETNEXTWD, w.wd)
                except OSError:
                    pass  # without it, numbers come 1, 2, ... (checked at dump)
            path = w.f_handle.path
            try:
                pfd = os.open(taskroot.task_path(path), O_PATH | O_CLOEXEC | os.O_NOFOLLOW)
            except OSError as exc:
                raise RestoreError(f"inotify watch {w.wd}: cannot open {path}: {exc.strerror}") from exc
            try:
                if os.fstat(pfd).st_ino != w.i_ino:
                    raise RestoreError(f"inotify watch {w.wd}: {path} is another file than at the dump")
                target = ffi.new("char[]", f"/proc/self/fd/{pfd}".encode())
                # through the magic link to the O_PATH file itself (IN_DONT_FOLLOW would watch the link)
                mask = w.mask & ~(IN_MASK_ADD | IN_MASK_CREATE)
                got = lib.st_syscall(nr.inotify_add_watch, fd, int(ffi.cast("uintptr_t", target)), mask, 0, 0,
                                     0)
            finally:
                os.close(pfd)
            if got != w.wd:
                err = os.strerror(-got) if got < 0 else f"got watch {got}"
                raise RestoreError(f"inotify watch {w.wd} on {path}: inotify_add_watch: {err}")
    except BaseException:
        os.close(fd)
        raise
    return fd


KIND = FdKind("inotify", fdinfo_pb2.INOTIFY, "ify", matches, dump, open_, check=check)
