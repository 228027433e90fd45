"""The audit login uid and session id. The kernel hands out session ids itself (one per loginuid
write) and lets nobody choose one, so a restored process can only keep them by inheriting them from
the engine: a tree in another audit session than the engine's is refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine import proc
from engine.errors import RestoreError, UnsupportedError
from engine.objects.base import KernelObject, Phase, Stage

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task


def _read(pid: int | str, name: str) -> int | None:
    try:
        return int(proc.read_str(f"/proc/{pid}/{name}"))
    except (OSError, ValueError):
        return None


def check(ctx: DumpContext, t: Task) -> None:
    if not t.alive:
        return
    for name in ("sessionid", "loginuid"):
        theirs, mine = _read(t.pid, name), _read("self", name)
        if theirs != mine:
            raise UnsupportedError(f"pid {t.pid}: audit {name} {theirs} differs from the engine's ({mine}); "
                                   "the "
                                   "kernel assigns audit sessions itself, so restore could not give it back: "
                                   "run the engine in the same audit session")


def dump(ctx: DumpContext, t: Task) -> None:
    loginuid = _read(t.pid, "loginuid")
    if loginuid is not None:
        t.core.tc.loginuid = loginuid


def restore(ctx: RestoreContext, t: Task) -> None:
    tc = t.core.tc
    if tc.HasField("loginuid") and tc.loginuid != _read(t.pid, "loginuid"):
        raise RestoreError(f"pid {t.pid}: audit loginuid {tc.loginuid} cannot be restored from this audit "
                           f"session (loginuid {_read('self', 'loginuid')}): restore from the dump's session")


OBJECT = KernelObject("audit", check=check, dump=dump, stages=(Stage("audit", Phase.PROCESS, restore),))
