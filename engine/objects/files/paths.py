"""Files reopened by their path: regular files, directories, O_PATH fds of anything with a name.

The description's offset and flags are kept; a regular file must have the size it had (a file that
changed under the image would restore a program into different data). At dump the path must still
name the very file the fd holds: a file mounted over, renamed or replaced would reopen another one.
"""

from __future__ import annotations

import os
import stat as st
from typing import TYPE_CHECKING

from engine import unpriv
from engine.abi.consts import (
    O_ACCMODE,
    O_APPEND,
    O_ASYNC,
    O_CLOEXEC,
    O_CREAT,
    O_EXCL,
    O_NOCTTY,
    O_PATH,
    O_TRUNC,
    O_WRONLY,
)
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import fdinfo_pb2, regfile_pb2
from engine.objects import taskroot
from engine.objects.files import ghost
from engine.objects.files.kind import Fd, FdKind

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

# file systems whose files are not plain data behind a path (their state would be lost by a reopen)
STATEFUL_FS = {"mqueue": "POSIX message queue", "bpf": "BPF object", "debugfs": "debugfs file",
               "tracefs": "tracefs file", "configfs": "configfs file", "securityfs": "securityfs file",
               "efivarfs": "EFI variable", "pstore": "pstore file", "fusectl": "fusectl file"}


def matches(fd: Fd) -> bool:
    if not fd.target.startswith("/"):
        return False
    if fd.info.flags & O_PATH:
        return True
    return st.S_ISREG(fd.stat.st_mode) or st.S_ISDIR(fd.stat.st_mode)


def check_path(pid: int, path: str, s: os.stat_result, what: str) -> None:
    """The path must name the same file in the task's root now: else a reopen finds another file."""
    if path.endswith(" (deleted)"):
        if st.S_ISDIR(s.st_mode):
            raise UnsupportedError(f"{what}: the directory was removed: an unlinked directory cannot be "
                                   "made again, so it is not supported")
        raise UnsupportedError(f"{what}: the file is unlinked (not supported yet)")
    try:
        now = os.stat(f"/proc/{pid}/root{path}", follow_symlinks=False)
    except OSError as exc:
        raise UnsupportedError(f"{what}: its path cannot be opened again ({exc.strerror})") from exc
    if (now.st_dev, now.st_ino) != (s.st_dev, s.st_ino):
        raise UnsupportedError(f"{what}: its path now names another file (mounted over, renamed or "
                               "replaced): it cannot be opened again by name")


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    if fd.fstype in STATEFUL_FS:
        raise UnsupportedError(f"{fd.where}: {STATEFUL_FS[fd.fstype]} fds are not supported yet")
    if ghost.is_deleted(fd.target):
        if not fd.fstype:  # no mount of the task has it: secretmem, SysV shm, ... not a file to save
            raise UnsupportedError(f"{fd.where}: an unlinked file of a kernel-internal mount: not "
                                   "supported")
        ghost.check(ctx, t.pid, fd.target, fd.stat, fd.where)
        return
    check_path(t.pid, fd.target, fd.stat, fd.where)


def dump(ctx: DumpContext, t: Task, fd: Fd, e: fdinfo_pb2.file_entry) -> None:
    if st.S_ISDIR(fd.stat.st_mode) and e.reg.fown.pid:
        # F_NOTIFY makes the process the directory's owner; the dnotify watch itself cannot be read
        raise UnsupportedError(f"{fd.where}: a directory with an owner (F_SETOWN, as dnotify's F_NOTIFY "
                               "leaves it): dnotify watches cannot be read, so they are not supported")
    flags = fd.info.flags & ~O_CLOEXEC
    reg = e.reg
    reg.name, reg.pos, reg.mode = fd.target.removesuffix(ghost.DELETED), fd.info.pos, fd.stat.st_mode
    if st.S_ISREG(fd.stat.st_mode) and flags & (O_ACCMODE | O_APPEND) != (O_WRONLY | O_APPEND):
        reg.size = fd.stat.st_size
    if ghost.is_deleted(fd.target):
        ghost.dump(ctx, t.pid, f"/proc/{t.pid}/fd/{fd.num}", reg, fd.stat)


def open_reg(reg: regfile_pb2.reg_file_entry) -> int:
    flags = reg.flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_ASYNC)
    try:
        if unpriv.ACTIVE:  # beneath the restore root, no symlinks (unpriv.check_files checked it before)
            fd = unpriv.open_beneath(taskroot.task_path("/"), reg.name, flags | O_NOCTTY)
        else:
            fd = os.open(taskroot.task_path(reg.name), flags | O_NOCTTY | O_CLOEXEC)
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


def open_(ctx: RestoreContext, e: fdinfo_pb2.file_entry) -> int:
    fd = ghost.open_remapped(ctx, e.reg)  # a file deleted at dump
    return fd if fd is not None else open_reg(e.reg)


def ext_id(e: fdinfo_pb2.file_entry) -> str:
    return e.reg.name


KIND = FdKind("file", fdinfo_pb2.REG, "reg", matches, dump, open_, check=check,
              write_images=ghost.write_images, load_images=ghost.load_images, ext_id=ext_id)
