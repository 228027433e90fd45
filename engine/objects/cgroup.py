"""cgroup v2 membership: the `0::/path` line of /proc/PID/cgroup, per process. Restored by writing the
PID to cgroup.procs of that directory under the engine's cgroup2 mount (found in /proc/self/mountinfo:
`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on a hybrid host), before the process's threads exist.

Refused at dump: a thread in another cgroup than its process (threaded cgroups), and a path the
engine cannot reach (no cgroup2 mount, a mount of another subtree, a cgroup outside its namespace).
A process in the engine's own cgroup needs nothing: restored processes start there. Memory the
restore allocated before the move stays charged to the engine's cgroup (v2 does not move charges).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from engine import proc
from engine.errors import RestoreError, UnsupportedError
from engine.objects.base import KernelObject, Phase, Stage

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task


def v2_path(path: str) -> str | None:
    """The cgroup v2 path in a /proc/.../cgroup file, None if it has no v2 line."""
    try:
        text = proc.read_str(path)
    except FileNotFoundError:
        return None
    for line in text.splitlines():
        if line.startswith("0::"):
            return line[3:]
    return None


def cgroup2_mount() -> tuple[str, str] | None:
    """(root inside the hierarchy, mount point) of the engine's first cgroup2 mount."""
    return next(((m.root, m.point) for m in proc.mounts("self") if m.fstype == "cgroup2"), None)


def directory(cg: str) -> str | None:
    """Where the engine sees cgroup `cg`, None if it cannot."""
    mnt = cgroup2_mount()
    if mnt is None or not cg.startswith("/") or "/.." in cg:
        return None
    root, point = mnt
    root = root.rstrip("/")
    if root and cg != root and not cg.startswith(root + "/"):
        return None
    d = point + cg[len(root):]
    return d if os.path.isfile(os.path.join(d, "cgroup.procs")) else None


def check(ctx: DumpContext, t: Task) -> None:
    if not t.alive:
        return
    cg = v2_path(f"/proc/{t.pid}/cgroup")
    if cg is None:
        return
    for th in t.threads[1:]:
        theirs = v2_path(f"/proc/{t.pid}/task/{th.tid}/cgroup")
        if theirs is not None and theirs != cg:
            raise UnsupportedError(f"thread {th.tid} of pid {t.pid} is in cgroup {theirs}, its process in "
                                   f"{cg}: threaded cgroups are not supported")
    if cg != v2_path("/proc/self/cgroup") and directory(cg) is None:
        raise UnsupportedError(f"pid {t.pid}: its cgroup {cg} is not reachable through a cgroup2 mount of "
                               "the engine, so restore could not put it back")


def dump(ctx: DumpContext, t: Task) -> None:
    cg = v2_path(f"/proc/{t.pid}/cgroup")
    if cg is not None:
        t.core.tc.stasis.cgroup = cg


def restore(ctx: RestoreContext, t: Task) -> None:
    s = t.core.tc.stasis
    if not s.HasField("cgroup") or v2_path(f"/proc/{t.pid}/cgroup") == s.cgroup:
        return
    d = directory(s.cgroup)
    if d is None:
        raise RestoreError(f"pid {t.pid}: cgroup {s.cgroup} is not reachable through a cgroup2 mount of the "
                           "engine")
    try:
        with open(os.path.join(d, "cgroup.procs"), "w") as f:
            f.write(str(t.pid))
    except OSError as exc:
        raise RestoreError(f"pid {t.pid}: cannot move it into cgroup {s.cgroup} ({d}/cgroup.procs): "
                           f"{exc.strerror}") from exc


OBJECT = KernelObject(
    "cgroup",
    check=check,
    dump=dump,
    stages=(Stage("cgroup", Phase.PROCESS, restore, doc="before its threads: they inherit it"),),
)
