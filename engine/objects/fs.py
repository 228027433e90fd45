"""Filesystem context: cwd, root and umask."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from engine.abi import nr
from engine.abi.consts import O_DIRECTORY
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import fs_pb2
from engine.objects.base import KernelObject, Phase, Stage
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task


@record
class TaskFs:
    img: fs_pb2.fs_entry = field(default_factory=fs_pb2.fs_entry)


def check(ctx: DumpContext, t: Task) -> None:
    if not t.alive:
        return
    from engine.objects.files import paths

    for what in ("cwd", "root"):
        path = os.readlink(f"/proc/{t.pid}/{what}")
        if path.endswith(" (deleted)"):
            raise UnsupportedError(f"pid {t.pid}: {what} {path} is removed (not supported yet)")
        paths.check_path(t.pid, path, os.stat(f"/proc/{t.pid}/{what}"), f"pid {t.pid} {what} {path}")


def dump(ctx: DumpContext, t: Task) -> None:
    cwd = os.readlink(f"/proc/{t.pid}/cwd")
    root = os.readlink(f"/proc/{t.pid}/root")
    t.fs = TaskFs(fs_pb2.fs_entry(cwd_id=ctx.files.by_path(cwd, O_DIRECTORY),
                                  root_id=ctx.files.by_path(root, O_DIRECTORY),
                                  umask=int(t.leader.facts.status["Umask"], 8)))


def write_images(ctx: DumpContext) -> None:
    for t in ctx.tasks:
        if t.alive and t.fs:
            ctx.images.write("fs", t.fs.img, pid=t.pid)


def load_images(ctx: RestoreContext) -> None:
    for t in ctx.tasks:
        if t.alive:
            t.fs = TaskFs(ctx.images.read_one("fs", pid=t.pid))


def restore(ctx: RestoreContext, t: Task) -> None:
    assert t.fs is not None
    inj = t.injector
    fs = t.fs.img
    root = ctx.files.path_of(fs.root_id)
    cwd = ctx.files.path_of(fs.cwd_id)
    if root != "/":
        inj.put_str(root)
        ret = inj.raw(nr.chroot, inj.scratch)
        if ret < 0:
            raise RestoreError(f"pid {t.pid}: chroot({root}): {os.strerror(-ret)}")
    inj.put_str(cwd)
    ret = inj.raw(nr.chdir, inj.scratch)
    if ret < 0:
        raise RestoreError(f"pid {t.pid}: chdir({cwd}): {os.strerror(-ret)}")
    if fs.HasField("umask"):
        inj.call(nr.umask, fs.umask, what="umask")


OBJECT = KernelObject("fs", check=check, dump=dump, write_images=write_images, load_images=load_images,
                      stages=(Stage("fs", Phase.PROCESS, restore),))
