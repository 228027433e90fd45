"""What a kernel-object module declares: its dump side, its restore stages, and the images it owns.

A module builds one `KernelObject` named OBJECT; `engine.objects.registry` lists them in order, and
dump.py and restore.py only walk that list. The restore order and the fault points (restore:<stage>)
come from the stages declared here, not from a list kept elsewhere.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.record import record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task, Thread


class Phase(enum.IntEnum):
    """When a restore stage runs, for each process (THREAD: for each thread)."""

    MEMORY = 1  # before the process forks its children: they inherit what it has by then
    PROCESS = 2  # once the whole tree exists
    THREADS = 3  # the process's threads are created
    THREAD = 4  # per thread
    LATE = 5  # after its threads, before it is let go


@record(frozen=True)
class Stage:
    name: str  # also the fault point restore:<name>
    phase: Phase
    run: Callable[..., None]  # (ctx, task), or (ctx, task, thread) in Phase.THREAD
    after: tuple[str, ...] = ()  # stages of other modules that must run first (same phase)
    doc: str = ""  # why it is where it is


TaskHook = Callable[["DumpContext", "Task"], None]
ThreadHook = Callable[["DumpContext", "Task", "Thread"], None]


@record(frozen=True)
class KernelObject:
    """One kind of kernel object. Every hook is optional.

    Dump, in this order for the whole tree: check (read /proc, refuse what cannot come back; nothing has
    been injected yet), dump_tree (tree-wide facts such as kcmp ids), then per process in an injection
    session dump and dump_thread, then dump_data (bulk copies, no injection), then write_images; last,
    whatever happened, dump_done(ctx, kill) before the tree is let go: kill is True when the images are
    complete and the tree is killed, False when it runs on (a failed dump, --leave-running) and must
    find every object as it was (TCP repair mode off, network locks gone).
    Restore: load_images, then the stages, then restore_done(ctx) for the whole tree (in reverse registry
    order, as a teardown) before any process
    is let go (network unlock, TCP repair off, queues); restore_abort(ctx) when the restore failed
    (remove what it added outside the tree, such as lock rules).
    """

    name: str
    check: TaskHook | None = None
    dump_tree: Callable[[DumpContext], None] | None = None
    dump: TaskHook | None = None
    dump_thread: ThreadHook | None = None
    dump_data: TaskHook | None = None
    write_images: Callable[[DumpContext], None] | None = None
    dump_done: Callable[[DumpContext, bool], None] | None = None
    load_images: Callable[[RestoreContext], None] | None = None
    stages: tuple[Stage, ...] = ()
    restore_done: Callable[[RestoreContext], None] | None = None
    restore_abort: Callable[[RestoreContext], None] | None = None
    features: tuple[Any, ...] = ()  # kernel features it needs (engine.check.Feature)
