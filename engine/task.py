"""Processes and threads being dumped or restored: tracees, memory, injectors, and the typed state that
the object modules share about each of them.

Every piece of per-task state is a field here (or a field of a module's own dataclass held here), so a
type checker can follow who writes and who reads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.abi.consts import TASK_ALIVE, TASK_DEAD, TASK_STOPPED
from engine.compel.inject import Injector
from engine.compel.memory import TaskMemory
from engine.compel.ptrace import Tracee
from engine.images.pb import core_pb2, ids_pb2
from engine.record import field, record

if TYPE_CHECKING:
    from engine.objects.files.table import TaskFiles
    from engine.objects.fs import TaskFs
    from engine.objects.mm import TaskMm
    from engine.proc import FdInfo, Vma

__all__ = ["TASK_ALIVE", "TASK_DEAD", "TASK_STOPPED", "Task", "Thread", "ThreadProc", "TaskProc"]


@record
class ThreadProc:
    """What /proc and ptrace showed of a thread at the freeze (dump only)."""

    stat: list[str]  # /proc/PID/task/TID/stat fields, 1-based
    status: dict[str, str]
    regs: Any  # cdata 'struct st_regs *'
    sigmask: int
    # a stopped task's queued SIGSTOPs (raw siginfo), read before any injection: an injected syscall's
    # return dequeues them (SIGSTOP cannot be blocked), so signals.dump cannot find them later
    stops: list[bytes] = field(default_factory=list)
    shared_stops: list[bytes] = field(default_factory=list)  # the leader only: the process-wide queue


@record
class TaskProc:
    """What /proc showed of a process at the freeze (dump only)."""

    limits: list[tuple[int, int]]
    fds: list[FdInfo]
    vmas: list[Vma]


@record
class Thread:
    tid: int
    tracee: Tracee
    vtid: int = 0  # its tid in the tree's own pid namespace (0: the tree shares the engine's)
    deeper: list[int] = field(default_factory=list)  # tids in pid namespaces below the tree's, outer first
    core: core_pb2.core_entry = field(default_factory=core_pb2.core_entry)
    inj: Injector | None = None
    # dump: the freeze
    seized: bool = False  # we PTRACE_SEIZEd it (and must let it go)
    gone: bool = False  # exited while we froze the tree
    stop_sig: int = 0  # the job-control stop it was in (or that arrived meanwhile)
    stop_held: bool = False  # stop_sig arrived during an injection and was held back: sent again at release
    proc: ThreadProc | None = None
    # restore
    spawned: bool = False  # this restore created it (and kills it on failure)

    @property
    def inner_tid(self) -> int:
        """Its tid as the tree sees it (the tree's root pid namespace): what the images name."""
        return self.vtid or self.tid

    @property
    def own_tid(self) -> int:
        """Its tid in its own pid namespace (a nested one, if it is in one): what it sees of itself."""
        return self.deeper[-1] if self.deeper else self.inner_tid

    @property
    def chain(self) -> list[int]:
        """Its tids from the engine's pid namespace down to its own."""
        return [self.tid, *([self.vtid] if self.vtid else []), *self.deeper]

    @property
    def set_tid(self) -> list[int]:
        """clone3's set_tid: innermost first."""
        return self.chain[::-1]

    @property
    def injector(self) -> Injector:
        assert self.inj is not None, f"no injection session open in thread {self.tid}"
        return self.inj

    @property
    def facts(self) -> ThreadProc:
        assert self.proc is not None, f"thread {self.tid}: /proc was not read"
        return self.proc


@record
class Task:
    """One process. threads[0] is the thread-group leader, whose core carries the process state."""

    pid: int  # as the engine sees it
    threads: list[Thread] = field(default_factory=list)
    ppid: int = 0
    pgid: int = 0
    sid: int = 0
    # in a tree with a pid namespace of its own: the ids as the tree sees them (0: the same as the engine's)
    vpid: int = 0
    vpgid: int = 0
    vsid: int = 0
    # in a pid namespace below the tree's: its group and session there (0: the leader is above it)
    own_pgid: int = 0
    own_sid: int = 0
    state: int = TASK_ALIVE
    mem: TaskMemory | None = None
    ids: ids_pb2.task_kobj_ids_entry = field(default_factory=ids_pb2.task_kobj_ids_entry)
    exit_status: int = 0  # a zombie's wait status
    start_time: int = 0  # a zombie's start time (stat field 22) when the freeze found it
    stop_sig: int = 0  # a stopped task's stop signal
    stop_reported: bool = False  # its parent already collected that stop with wait(WUNTRACED)
    proc: TaskProc | None = None
    # each object module's own state about this task
    mm: TaskMm | None = None
    files: TaskFiles | None = None
    fs: TaskFs | None = None
    # restore
    spawned: bool = False
    inherited: bool = False  # forked from its rebuilt parent: starts as a copy of that address space
    creator: Task | None = None  # a stand-in's parent, which reaps it

    @property
    def inner_pid(self) -> int:
        """Its pid in the tree's root pid namespace: what the images name."""
        return self.vpid or self.pid

    @property
    def own_pid(self) -> int:
        """Its pid in its own pid namespace: what syscalls injected into it take and return."""
        return self.leader.own_tid if self.threads else self.inner_pid

    @property
    def depth(self) -> int:
        """How many pid namespaces it has a pid in, the engine's first."""
        return len(self.leader.chain)

    def pid_at(self, depth: int) -> int:
        """Its pid as a process with `depth` levels sees it (one in its pid namespace or above)."""
        return self.leader.chain[depth - 1]

    @property
    def leader(self) -> Thread:
        return self.threads[0]

    @property
    def core(self) -> core_pb2.core_entry:
        return self.threads[0].core

    @property
    def tracee(self) -> Tracee:
        return self.threads[0].tracee

    @property
    def inj(self) -> Injector | None:
        return self.threads[0].inj

    @property
    def injector(self) -> Injector:
        return self.threads[0].injector

    @property
    def memory(self) -> TaskMemory:
        assert self.mem is not None, f"pid {self.pid}: its memory is not open"
        return self.mem

    @property
    def facts(self) -> TaskProc:
        assert self.proc is not None, f"pid {self.pid}: /proc was not read"
        return self.proc

    @property
    def alive(self) -> bool:
        return self.state != TASK_DEAD
