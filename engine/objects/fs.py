"""Filesystem context: cwd, root and umask."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from engine.compel import syscalls as nr
from engine.errors import RestoreError
from engine.images.pb import fs_pb2

if TYPE_CHECKING:
    from engine.task import Task

O_DIRECTORY = 0o200000


def dump(ctx, t: Task) -> None:
    cwd = os.readlink(f"/proc/{t.pid}/cwd")
    root = os.readlink(f"/proc/{t.pid}/root")
    for what, path in (("cwd", cwd), ("root", root)):
        if path.endswith(" (deleted)"):
            from engine.errors import UnsupportedError

            raise UnsupportedError(f"pid {t.pid}: {what} {path} is removed (not supported yet)")
    t.images["fs"] = fs_pb2.fs_entry(cwd_id=ctx.files.by_path(cwd, O_DIRECTORY),
                                     root_id=ctx.files.by_path(root, O_DIRECTORY),
                                     umask=int(t.facts["status"]["Umask"], 8))


def restore(ctx, t: Task) -> None:
    inj = t.injector
    fs = t.images["fs"]
    root = ctx.files.get(fs.root_id).reg.name
    cwd = ctx.files.get(fs.cwd_id).reg.name
    if root != "/":
        inj.put(root.encode() + b"\0")
        ret = inj.raw(nr.chroot, inj.scratch)
        if ret < 0:
            raise RestoreError(f"pid {t.pid}: chroot({root}): {os.strerror(-ret)}")
    inj.put(cwd.encode() + b"\0")
    ret = inj.raw(nr.chdir, inj.scratch)
    if ret < 0:
        raise RestoreError(f"pid {t.pid}: chdir({cwd}): {os.strerror(-ret)}")
    if fs.HasField("umask"):
        inj.call(nr.umask, fs.umask, what="umask")
