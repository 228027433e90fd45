"""Namespaces: until they are dumped and restored, a tree whose processes have namespaces other than the
engine's own is refused (its hostname, IPC objects, mounts, network or clock offsets would be lost)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from engine.errors import UnsupportedError
from engine.objects.base import KernelObject

if TYPE_CHECKING:
    from engine.context import DumpContext
    from engine.task import Task

KINDS = ("user", "pid", "pid_for_children", "mnt", "uts", "ipc", "net", "cgroup", "time", "time_for_children")


def _ns(pid: int | str, kind: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/{kind}").st_ino
    except FileNotFoundError:
        return None  # a kernel without this namespace


def check(ctx: DumpContext, t: Task) -> None:
    if not t.alive:
        return
    for kind in KINDS:
        mine = _ns("self", kind)
        theirs = _ns(t.pid, kind)
        if mine is not None and theirs is not None and mine != theirs:
            name = kind.replace("_for_children", " (for its children)")
            raise UnsupportedError(f"pid {t.pid} has a {name} namespace of its own (namespaces are not "
                                   "supported yet)")


OBJECT = KernelObject("namespaces", check=check)
