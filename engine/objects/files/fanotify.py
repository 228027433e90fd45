"""fanotify: the group's init and event flags, and its marks on inodes and mounts with their masks.

Marks are read from fdinfo (`fanotify ino:I sdev:D mflags:F mask:M ignored_mask:G fhandle-…` for an
inode, `fanotify mnt_id:N mflags:F mask:M ignored_mask:G` for a mount); an inode is found again through
its file handle, as for inotify (engine/objects/files/inotify.py), a mount by its id in the task's
mountinfo. Refused: queued events (they cannot be read without taking them), permission classes (an
event a process waits on could be lost), filesystem marks (CRIU's schema has no place for them).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from engine import proc
from engine.abi import nr
from engine.abi.consts import (
    FAN_CLASS_CONTENT,
    FAN_CLASS_PRE_CONTENT,
    FAN_CLOEXEC,
    FAN_MARK_ADD,
    FAN_MARK_IGNORED_MASK,
    FAN_MARK_MOUNT,
    O_CLOEXEC,
    O_PATH,
)
from engine.compel.pidfd import queued_bytes
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import fdinfo_pb2, fsnotify_pb2
from engine.native import ffi, lib
from engine.objects.files.inotify import Watch, fill_handle, watched_path
from engine.objects.files.kind import Fd, FdKind

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

AT_FDCWD = -100


def matches(fd: Fd) -> bool:
    return fd.target == "anon_inode:[fanotify]"


def _lines(pid: int, fd: int) -> tuple[dict[str, str], list[dict[str, str]]]:
    group: dict[str, str] = {}
    marks: list[dict[str, str]] = []
    with open(f"/proc/{pid}/fdinfo/{fd}") as f:
        for line in f:
            if not line.startswith("fanotify "):
                continue
            kv = dict(w.split(":", 1) for w in line.split()[1:])
            if "event-flags" in kv:
                group = kv
            else:
                marks.append(kv)
    return group, marks


def _mount_path(pid: int, mnt_id: int) -> str | None:
    return next((m.point for m in proc.mounts(pid) if m.mnt_id == mnt_id), None)


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    group, marks = _lines(t.pid, fd.num)
    if int(group.get("flags", "0"), 16) & (FAN_CLASS_CONTENT | FAN_CLASS_PRE_CONTENT):
        raise UnsupportedError(f"{fd.where}: a fanotify group of a permission class: an event a process "
                               "waits on could be lost (not supported)")
    queued = queued_bytes(t.pid, fd.num)
    if queued:
        raise UnsupportedError(f"{fd.where}: {queued} bytes of fanotify events are queued; they cannot be "
                               "read without taking them from the program (not supported)")
    for m in marks:
        if "mnt_id" in m:
            if _mount_path(t.pid, int(m["mnt_id"], 16)) is None:
                raise UnsupportedError(f"{fd.where}: a fanotify mark on mount {int(m['mnt_id'], 16)}, which "
                                       "the task cannot see")
        elif "ino" not in m:
            raise UnsupportedError(f"{fd.where}: a fanotify filesystem mark (not supported yet)")


def dump(ctx: DumpContext, t: Task, fd: Fd, e: fdinfo_pb2.file_entry) -> None:
    group, marks = _lines(t.pid, fd.num)
    ffy = e.ffy
    ffy.faflags, ffy.evflags = int(group["flags"], 16), int(group["event-flags"], 16)
    for m in marks:
        x = ffy.mark.add(id=e.id, mflags=int(m["mflags"], 16), mask=int(m["mask"], 16),
                         ignored_mask=int(m["ignored_mask"], 16), s_dev=int(m.get("sdev", "0"), 16))
        if "mnt_id" in m:
            x.type = fsnotify_pb2.MOUNT
            x.me.mnt_id = int(m["mnt_id"], 16)
            x.me.path = _mount_path(t.pid, x.me.mnt_id) or "/"
            continue
        x.type = fsnotify_pb2.INODE
        nbytes = int(m["fhandle-bytes"], 16)
        w = Watch(0, int(m["ino"], 16), x.s_dev, x.mask, int(m["fhandle-type"], 16),
                  bytes.fromhex(m["f_handle"])[:nbytes])
        path = watched_path(t.pid, w)
        if path.endswith(" (deleted)") or not path.startswith("/"):
            raise UnsupportedError(f"{fd.where}: a fanotify mark on a removed file ({path}): not supported")
        x.ie.i_ino = w.ino
        fill_handle(x.ie.f_handle, w, path)


def _mark(fd: int, flags: int, mask: int, path: str) -> int:
    p = ffi.new("char[]", path.encode())
    return int(lib.st_syscall(nr.fanotify_mark, fd, flags, mask, AT_FDCWD, int(ffi.cast("uintptr_t", p)), 0))


def open_(ctx: RestoreContext, e: fdinfo_pb2.file_entry) -> int:
    ffy = e.ffy
    fd = lib.st_syscall(nr.fanotify_init, ffy.faflags | FAN_CLOEXEC, ffy.evflags, 0, 0, 0, 0)
    if fd < 0:
        raise RestoreError(f"fanotify_init({ffy.faflags:#x}, {ffy.evflags:#x}): {os.strerror(-fd)}")
    try:
        for m in reversed(ffy.mark):  # fdinfo lists the newest mark first: add the oldest first
            pfd = -1
            if m.type == fsnotify_pb2.MOUNT:
                path, kind = m.me.path, FAN_MARK_MOUNT
            else:
                pfd = os.open(m.ie.f_handle.path, O_PATH | O_CLOEXEC | os.O_NOFOLLOW)
                if os.fstat(pfd).st_ino != m.ie.i_ino:
                    os.close(pfd)
                    raise RestoreError(f"fanotify mark on {m.ie.f_handle.path}: another file than at the "
                                       "dump")
                path, kind = f"/proc/self/fd/{pfd}", 0
            try:
                for flags, mask in ((FAN_MARK_ADD | kind | m.mflags, m.mask),
                                    (FAN_MARK_ADD | kind | m.mflags | FAN_MARK_IGNORED_MASK, m.ignored_mask)):
                    if mask:
                        ret = _mark(fd, flags, mask, path)
                        if ret < 0:
                            raise RestoreError(f"fanotify mark on {path}: {os.strerror(-ret)}")
            finally:
                if pfd >= 0:
                    os.close(pfd)
    except BaseException:
        os.close(fd)
        raise
    return fd


KIND = FdKind("fanotify", fdinfo_pb2.FANOTIFY, "ffy", matches, dump, open_, check=check)
