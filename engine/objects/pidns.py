"""Pid namespaces: every process's pids on each level, and pid namespaces nested below the tree's.

A process of the tree has a pid in the engine's pid namespace, in the tree's (its root's, when the tree has
one of its own: vpid, what the images name) and in each pid namespace below it that it is in (`deeper`:
a child that unshare(CLONE_NEWPID) made pid 1 of a namespace, its descendants). pstree.img names processes
as the tree sees them, as CRIU's does; the deeper pids, the group and session there and a pid_for_children
other than the process's own pid namespace are Stasis extension fields of the cores.

Dump refuses, while the tree runs on: a nested pid namespace whose init (pid 1) is not a live process of
the tree, one owned by another user namespace than the tree's, one shared with a process outside the tree,
one whose parent namespace is not the one its init's parent is in (made by unshare after a setns), a
pid_for_children namespace that no process of the tree is in yet, and processes in a nested pid namespace
with a controlling terminal or whose exited session or group leader would need a stand-in.

Restore. Processes are forked top-down: a nested namespace's init by clone3(CLONE_NEWPID) with set_tid
{1, its pids above}, the others after their creator entered that namespace for its children (setns on an
fd of the init's, handed over by the engine), set_tid naming every level. Once all exist, each process's
pid_for_children is set back to the one it had.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine import proc
from engine.abi import nr
from engine.abi.consts import CLONE_NEWPID, O_RDONLY
from engine.errors import RestoreError, UnsupportedError
from engine.log import log
from engine.objects import userns
from engine.objects.intask import open_by_engine
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task


def _nspids(status: dict[str, str], key: str) -> list[int]:
    return [int(x) for x in status.get(key, "").split()]


# -- dump ------------------------------------------------------------------------------------------

def levels(ctx: DumpContext, s: Any, t: Task) -> None:
    """t's pids as the tree sees them (with a pid namespace of its own) and below; `s` is namespaces'
    dump state."""
    own_level = len(_nspids(proc.status("self"), "NSpid"))
    tree_level = own_level + (1 if "pid" in s.dumped else 0)
    st = t.leader.facts.status if t.alive else proc.status(t.pid)
    pids = _nspids(st, "NSpid")
    if t is ctx.root and "pid" in s.dumped and (len(pids) != tree_level or pids[-1] != 1):
        deep = len(pids) - own_level
        where = f"pid {pids[-1]} there" if deep == 1 else f"{deep} levels down"
        raise UnsupportedError(f"pid {t.pid} is in a pid namespace of its own but not its init ({where}): a "
                               "pid namespace is dumped only with its init (pid 1) as the tree's root")
    if len(pids) < tree_level:
        raise UnsupportedError(f"pid {t.pid} is not in the tree's pid namespace")
    if "pid" in s.dumped:
        t.vpid = pids[tree_level - 1]
    t.leader.deeper = pids[tree_level:]
    for key in ("NSpgid", "NSsid"):
        v = _nspids(st, key)
        if len(v) != len(pids) or not v[tree_level - 1]:
            raise UnsupportedError(f"pid {t.pid}: its {key[2:]} is not in the tree's pid namespace")
        if "pid" in s.dumped:
            if key == "NSpgid":
                t.vpgid = v[tree_level - 1]
            else:
                t.vsid = v[tree_level - 1]
        if len(pids) > tree_level:
            if key == "NSpgid":
                t.own_pgid = v[-1]
            else:
                t.own_sid = v[-1]
    if not t.alive:
        if "pid" in s.dumped:
            t.leader.vtid = t.vpid
        return
    for th in t.threads:
        tids = _nspids(th.facts.status, "NSpid")
        if "pid" in s.dumped:
            th.vtid = tids[tree_level - 1]
        th.deeper = tids[tree_level:]


def _refuse_nested(ctx: DumpContext, t: Task) -> None:
    """What restore does not rebuild for a process in a nested pid namespace."""
    pids = {x.pid: x for x in ctx.tasks}
    parent = pids.get(t.ppid)
    assert parent is not None  # the root is never nested
    what = f"pid {t.pid} (pid {t.own_pid} in a nested pid namespace)"
    if t.alive and int(t.leader.facts.stat[7]):
        raise UnsupportedError(f"{what} has a controlling terminal: not supported yet")
    if t.sid != t.pid and t.sid != parent.sid:
        raise UnsupportedError(f"{what} is in session {t.sid}, which its parent is not in: not supported")
    if t.pgid != t.pid and t.pgid not in pids and t.pgid not in (t.sid, ctx.root.pgid):
        raise UnsupportedError(f"{what} is in group {t.pgid}, whose leader has exited: not supported yet")
    if (not t.own_sid and t.sid != parent.sid) or (not t.own_pgid and t.pgid != parent.pgid):
        raise UnsupportedError(f"{what} is in a session or group led from outside its pid namespace that "
                               "its parent is not in: it could not be given back")


def check_tree(ctx: DumpContext, s: Any) -> None:
    """Once every process is known: the nested pid namespaces (`s` is namespaces' dump state), the ids of
    zombies in them, pid_for_children."""
    root_ns = s.root.get("pid")
    user = s.root.get("user")
    by_pid = {t.pid: t for t in ctx.tasks}
    inits: dict[int, Task] = {}  # nested pid ns inode -> its init
    for t in ctx.tasks:
        if t is ctx.root:
            continue
        if not t.alive:
            _zombie_ns(ctx, s, t, by_pid[t.ppid])
        ino = s.of.get(t.pid, {}).get("pid", root_ns)
        if ino == root_ns:
            continue
        if t.own_pid == 1:
            inits[ino] = t
        _refuse_nested(ctx, t)
    for t in ctx.tasks:
        mine = s.of.get(t.pid, {})
        ino = mine.get("pid", root_ns)
        if ino != root_ns and ino not in inits:
            raise UnsupportedError(f"pid {t.pid} is in a nested pid namespace whose init (pid 1) is not a "
                                   "live process of the dumped tree")
        # its children get their pids there by set_tid, which only that namespace's owner may name
        if (t.alive and ino != root_ns and mine.get("user", user) != user
                and userns.owner_of(s.fds[("pid", ino)]) != mine["user"]):
            raise UnsupportedError(f"pid {t.pid} is in a user namespace of its own and in a nested pid "
                                   "namespace that this user namespace does not own: not supported")
    for ino, init in inits.items():
        where = f"the pid namespace of pid {init.pid} (its init)"
        if not init.alive:
            raise UnsupportedError(f"{where}: its init is a zombie")
        from engine.objects import namespaces

        # made again by its init's parent (clone3 CLONE_NEWPID): owned by that one's user namespace
        namespaces.check_owner(s, "pid", ino, s.of.get(init.ppid, {}).get("user", user), where)
        namespaces.check_outsiders(ctx, "pid", ino, where)
        parent_ns = s.of.get(init.ppid, {}).get("pid", root_ns)
        if userns.parent_of(s.fds[("pid", ino)]) != parent_ns:
            raise UnsupportedError(f"{where} is not a child of its parent's pid namespace (made by unshare "
                                   "after a setns): not supported")
        log.info("pid %d: init of a nested pid namespace (%d levels below the engine's)", init.pid,
                 init.depth - 1)
    for t in ctx.tasks:
        if not t.alive:
            continue
        mine = s.of[t.pid]
        pfc = mine.get("pid_for_children", mine.get("pid"))
        if pfc == mine.get("pid"):
            continue
        if pfc not in inits and pfc != root_ns:
            raise UnsupportedError(f"pid {t.pid} made a pid namespace for its children "
                                   "(unshare(CLONE_NEWPID)) that no process of the tree is in")
        _dstate(ctx).pfc[t.pid] = pfc


@record
class PidDump:
    pfc: dict[int, int] = field(default_factory=dict)  # pid -> its pid_for_children, when not its own


def _dstate(ctx: DumpContext) -> PidDump:
    return ctx.files.state(PidDump)


def number(ctx: DumpContext, s: Any) -> None:
    """After the namespaces got their ids: each process's pid_for_children other than its own."""
    pfc = _dstate(ctx).pfc
    for t in ctx.tasks:
        if t.pid in pfc:
            t.core.tc.stasis.pid_for_children_ns_id = s.id_of("pid", pfc[t.pid])


def _zombie_ns(ctx: DumpContext, s: Any, t: Task, parent: Task) -> None:
    """A zombie keeps no namespaces: its pid namespace is its parent's, or the one its parent made for its
    children when it is one level deeper."""
    if not t.leader.deeper and not parent.leader.deeper:
        return
    mine = s.of.get(parent.pid, {})
    if t.depth == parent.depth:
        ino = mine.get("pid")
    elif t.depth == parent.depth + 1 and t.own_pid != 1:
        ino = mine.get("pid_for_children")
    else:
        raise UnsupportedError(f"zombie {t.pid} was the init of a nested pid namespace: not supported")
    if ino is not None:
        s.of[t.pid] = {**s.root, "pid": ino}


def write_core(t: Task, core: Any, th_deeper: list[int]) -> None:
    """The deeper pids and the group and session there, into a core about to be written."""
    core.thread_core.stasis.nested_tids.extend(th_deeper)
    if th_deeper and core.HasField("tc"):
        x = core.tc.stasis
        if t.own_pgid:
            x.nested_pgid = t.own_pgid
        if t.own_sid:
            x.nested_sid = t.own_sid


# -- restore ---------------------------------------------------------------------------------------

def load(t: Task) -> None:
    """From t's cores: its threads' deeper pids, its group and session there."""
    for th in t.threads:
        if th.core.HasField("thread_core"):
            th.deeper = list(th.core.thread_core.stasis.nested_tids)
    if t.core.HasField("tc"):
        x = t.core.tc.stasis
        t.own_pgid, t.own_sid = x.nested_pgid, x.nested_sid


@record
class Forking:
    holders: dict[int, Task] = field(default_factory=dict)  # pid ns id -> its init (or the tree's root)
    pfc: dict[int, int] = field(default_factory=dict)  # pid -> the pid ns id its children go into now


def _state(ctx: RestoreContext) -> Forking:
    return ctx.files.state(Forking)


def _set_pfc(ctx: RestoreContext, t: Task, ns_id: int) -> None:
    f = _state(ctx)
    if f.pfc.get(t.pid, t.ids.pid_ns_id) == ns_id:
        return
    holder = t if ns_id == t.ids.pid_ns_id else f.holders.get(ns_id)
    if holder is None:
        raise RestoreError(f"pid {t.pid}: pid namespace {ns_id} has no process to enter it by")
    fd = open_by_engine(ctx, t, f"/proc/{holder.pid}/ns/pid", O_RDONLY)
    try:
        t.injector.call(nr.setns, fd, CLONE_NEWPID, what=f"setns(pid namespace of pid {holder.pid})")
    finally:
        t.injector.call(nr.close, fd, what="close")
    f.pfc[t.pid] = ns_id


def before_clone(ctx: RestoreContext, creator: Task, child: Task) -> int:
    """Before `creator` forks `child`: the clone flag that makes its pid namespace (CLONE_NEWPID for a
    nested init), after the creator's children were sent where they must go."""
    f = _state(ctx)
    if not f.holders:
        f.holders[ctx.root.ids.pid_ns_id] = ctx.root
    want = child.ids.pid_ns_id
    if want == creator.ids.pid_ns_id or want in f.holders:
        _set_pfc(ctx, creator, want)
        return 0
    if child.own_pid != 1 or child.depth != creator.depth + 1:
        raise RestoreError(f"pid {child.pid}: its pid namespace (id {want}) has no init restored before it")
    _set_pfc(ctx, creator, creator.ids.pid_ns_id)  # the new namespace is a child of the creator's own
    return CLONE_NEWPID


def after_clone(ctx: RestoreContext, child: Task, flags: int) -> None:
    if flags & CLONE_NEWPID:
        _state(ctx).holders[child.ids.pid_ns_id] = child
        log.debug("pid %d: init of a new pid namespace (id %d)", child.pid, child.ids.pid_ns_id)


def restore_pfc(ctx: RestoreContext) -> None:
    """Every process's pid_for_children as it was (its own pid namespace unless it had unshared one)."""
    for t in ctx.tasks:
        if not t.alive:
            continue
        x = t.core.tc.stasis
        _set_pfc(ctx, t, x.pid_for_children_ns_id if x.HasField("pid_for_children_ns_id")
                 else t.ids.pid_ns_id)
