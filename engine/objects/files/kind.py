"""What one kind of file descriptor declares (see kinds.py for the table, table.py for the generic code).

The generic fd code never names a kind: it finds the kind of each fd with `matches`, lets it refuse
(`check`) and describe the open file description (`dump`), and at restore asks it for an engine fd of
that description (`open`), which every task then takes with pidfd_getfd().
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.record import record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.images.pb import fdinfo_pb2
    from engine.objects.files.sockets import SockId
    from engine.proc import FdInfo
    from engine.task import Task


@record(frozen=True)
class Fd:
    """One fd of a frozen task, as /proc shows it."""

    pid: int
    info: FdInfo
    stat: os.stat_result  # of the open file (stat of /proc/PID/fd/N)
    fstype: str  # of the mount it is on (from mountinfo by mnt_id), "" if unknown
    sock: SockId | None = None  # a socket's family, type and protocol (read once, for the kinds to match)

    @property
    def num(self) -> int:
        return self.info.fd

    @property
    def target(self) -> str:
        return self.info.target

    @property
    def where(self) -> str:
        return f"pid {self.pid} fd {self.num} ({self.target})"


@record(frozen=True)
class FdKind:
    name: str  # what a user reads in a refusal ("pipe", "regular file")
    fd_type: fdinfo_pb2.fd_types  # in fdinfo and files.img entries
    sub: str  # the file_entry field that holds this kind's message (it has `flags` and `fown`)
    matches: Callable[[Fd], bool]
    # a new open file description: fill e.<sub> (the generic code sets id, flags and fown)
    dump: Callable[[DumpContext, Task, Fd, fdinfo_pb2.file_entry], None]
    # an engine fd of the description, with its flags (never O_ASYNC: the task sets that itself)
    open: Callable[[RestoreContext, fdinfo_pb2.file_entry], int]
    check: Callable[[DumpContext, Task, Fd], None] | None = None
    # restore: does this kind open the entry? (kinds that share an fd type; None: every entry of the type)
    owns: Callable[[fdinfo_pb2.file_entry], bool] | None = None
    # how `--inherit-fd fd[N]:RESOURCE` names the entry (criu's spelling: pipe:[ino], socket:[ino], a path)
    ext_id: Callable[[fdinfo_pb2.file_entry], str] | None = None
    write_images: Callable[[DumpContext], None] | None = None
    load_images: Callable[[RestoreContext], None] | None = None
