"""Which kernel objects processes share (mm, fd table, fs info, signal handlers), by kcmp(2).

The ids are small dump-local integers, as CRIU's are; processes with equal ids share the object.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.errors import UnsupportedError
from engine.images.pb import ids_pb2
from engine.native import lib

if TYPE_CHECKING:
    from engine.task import Task

KCMP = 312
KCMP_VM, KCMP_FILES, KCMP_FS, KCMP_SIGHAND = 1, 2, 3, 4
KINDS = (("vm_id", KCMP_VM), ("files_id", KCMP_FILES), ("fs_id", KCMP_FS), ("sighand_id", KCMP_SIGHAND))


def same(kind: int, pid1: int, pid2: int) -> bool:
    return lib.st_syscall(KCMP, pid1, pid2, kind, 0, 0, 0) == 0


@dataclass
class Ids:
    next_id: int = 1
    reps: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # kind -> [(pid, id)]

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


def dump(ctx) -> None:
    owners: dict[int, int] = {}
    for t in ctx.tasks:
        t.images["ids"] = _ids(ctx.ids, t)
        if t.alive:
            other = owners.setdefault(t.images["ids"].vm_id, t.pid)
            if other != t.pid:  # CLONE_VM without CLONE_THREAD: two processes, one address space
                raise UnsupportedError(f"pids {other} and {t.pid} share one address space (CLONE_VM "
                                       "processes are not supported yet)")


def _ids(ids: Ids, t: Task) -> ids_pb2.task_kobj_ids_entry:
    if not t.alive:  # a zombie shares nothing any more
        return ids_pb2.task_kobj_ids_entry(**{name: ids.new() for name, _ in KINDS})
    return ids_pb2.task_kobj_ids_entry(**{name: ids.of(kind, t.pid) for name, kind in KINDS})
