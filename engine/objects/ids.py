"""Which kernel objects processes share (mm, fd table, fs info, signal handlers), by kcmp(2).

The ids are small dump-local integers, as CRIU's are; processes with equal ids share the object.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from engine.abi import nr
from engine.abi.consts import KCMP_FILES, KCMP_FS, KCMP_SIGHAND, KCMP_VM
from engine.errors import UnsupportedError
from engine.images.pb import ids_pb2
from engine.native import lib
from engine.objects.base import KernelObject
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

KINDS = (("vm_id", KCMP_VM), ("files_id", KCMP_FILES), ("fs_id", KCMP_FS), ("sighand_id", KCMP_SIGHAND))


def same(kind: int, pid1: int, pid2: int) -> bool:
    return lib.st_syscall(nr.kcmp, pid1, pid2, kind, 0, 0, 0) == 0


@record
class Ids:
    next_id: int = 1
    reps: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # kind -> [(pid, id)]
    vm_owner: dict[int, int] = field(default_factory=dict)  # vm_id -> pid

    def new(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def of(self, kind: int, pid: int) -> int:
        for rep, rid in self.reps.setdefault(kind, []):
            if same(kind, pid, rep):
                return rid
        rid = self.new()
        self.reps[kind].append((pid, rid))
        return rid

    def root_ids(self) -> ids_pb2.task_kobj_ids_entry:
        """The engine's own objects, as CRIU's inventory records them."""
        me = os.getpid()
        return ids_pb2.task_kobj_ids_entry(**{name: self.of(kind, me) for name, kind in KINDS})


def check(ctx: DumpContext, t: Task) -> None:
    if not t.alive:  # a zombie shares nothing any more
        t.ids = ids_pb2.task_kobj_ids_entry(**{name: ctx.ids.new() for name, _ in KINDS})
        return
    t.ids = ids_pb2.task_kobj_ids_entry(**{name: ctx.ids.of(kind, t.pid) for name, kind in KINDS})
    other = ctx.ids.vm_owner.setdefault(t.ids.vm_id, t.pid)
    if other != t.pid:  # CLONE_VM without CLONE_THREAD: two processes, one address space
        raise UnsupportedError(f"pids {other} and {t.pid} share one address space (CLONE_VM processes "
                               "are not "
                               "supported yet)")


def write_images(ctx: DumpContext) -> None:
    for t in ctx.tasks:
        ctx.images.write("ids", t.ids, pid=t.pid)


def load_images(ctx: RestoreContext) -> None:
    for t in ctx.tasks:
        t.ids = ctx.images.read_one("ids", pid=t.pid)


OBJECT = KernelObject("ids", check=check, write_images=write_images, load_images=load_images)
