"""Processes and threads being dumped or restored: tracees, memory, injectors and image messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.compel.inject import Injector
from engine.compel.memory import TaskMemory
from engine.compel.ptrace import Tracee
from engine.images.pb import core_pb2

TASK_ALIVE, TASK_DEAD, TASK_STOPPED = 1, 2, 3  # core_entry.tc.task_state (CRIU's values)


@dataclass
class Thread:
    tid: int
    tracee: Tracee
    core: core_pb2.core_entry = field(default_factory=core_pb2.core_entry)
    facts: dict[str, Any] = field(default_factory=dict)
    inj: Injector | None = None

    @property
    def injector(self) -> Injector:
        assert self.inj is not None, f"no injection session open in thread {self.tid}"
        return self.inj


@dataclass
class Task:
    """One process. threads[0] is the thread-group leader, whose core carries the process state."""

    pid: int
    threads: list[Thread] = field(default_factory=list)
    ppid: int = 0
    pgid: int = 0
    sid: int = 0
    state: int = TASK_ALIVE
    mem: TaskMemory | None = None
    # image messages and /proc facts that several object modules share, by name
    images: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

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
    def alive(self) -> bool:
        return self.state != TASK_DEAD
