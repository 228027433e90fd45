"""One process being dumped or restored: its tracee, memory, injector and image messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.compel.inject import Injector
from engine.compel.memory import TaskMemory
from engine.compel.ptrace import Tracee
from engine.images.pb import core_pb2


@dataclass
class Task:
    pid: int
    tracee: Tracee
    mem: TaskMemory | None = None
    inj: Injector | None = None
    core: core_pb2.core_entry = field(default_factory=core_pb2.core_entry)
    # image messages and /proc facts that several object modules share, by name
    images: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def injector(self) -> Injector:
        assert self.inj is not None, "no injection session open"
        return self.inj
