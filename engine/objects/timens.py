"""Time namespaces nested below the tree's: a process that unshare(CLONE_NEWTIME)d for its children (its
time_for_children) and the children living in it, or a process that made one and setns'd into it.

Dump. Each such namespace gets its id and a timens-<id>.img (the clocks as its processes read them, and
on the same boot the offsets, as the tree's own: namespaces._dump_time), read from a process whose
time_for_children it is; a process's time_for_children other than its own time namespace is a Stasis
field of its core. Refused while the tree runs on: a time_for_children namespace no process of the tree is
in, one owned by another user namespace than its first process's, one shared with a process outside.

Restore. A time namespace gets its offsets before any process is in it: the process that had it as its
time_for_children unshares it and gets the offsets just before it forks the first child that lives in it
(that child is then born inside); a namespace a process made and entered itself is made by it right after
its clone (unshare, offsets, setns into its own time_for_children); every other process of an existing
one enters it right after its clone (setns on an fd of one of its processes). Once all exist, a process
whose time_for_children was its own again gets it back (setns into its own).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.abi import nr
from engine.abi.consts import CLONE_NEWTIME, O_RDONLY
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import timens_pb2
from engine.log import log
from engine.objects.intask import open_by_engine
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task


# -- dump ------------------------------------------------------------------------------------------

@record
class TimeDump:
    found: dict[int, Task] = field(default_factory=dict)  # nested time ns inode -> its first process
    entries: dict[int, timens_pb2.timens_entry] = field(default_factory=dict)


def _dstate(ctx: DumpContext) -> TimeDump:
    return ctx.files.state(TimeDump)


def check_tree(ctx: DumpContext, s: Any) -> None:
    """Once every process is known (`s` is namespaces' dump state): the nested time namespaces, each
    read from a process whose time_for_children it is."""
    from engine.objects import namespaces

    d = _dstate(ctx)
    root_ns = s.root.get("time")
    live = [t for t in ctx.tasks if t.alive]
    for t in live:
        ino = s.of[t.pid].get("time")
        if ino is not None and ino != root_ns:
            d.found.setdefault(ino, t)
    for t in live:
        mine = s.of[t.pid]
        tfc = mine.get("time_for_children", mine.get("time"))
        if tfc != mine.get("time") and tfc not in d.found:
            raise UnsupportedError(f"pid {t.pid} made a time namespace for its children "
                                   "(unshare(CLONE_NEWTIME)) that no process of the tree is in: not "
                                   "supported (a time namespace is restored only with a process in it)")
    for ino, first in d.found.items():
        where = f"pid {first.pid}: its own time namespace"
        namespaces.check_owner(s, "time", ino, s.of[first.pid].get("user", s.root.get("user")), where)
        namespaces.check_outsiders(ctx, "time", ino, where)
        reader = next((t for t in live if s.of[t.pid].get("time_for_children") == ino), first)
        d.entries[ino] = namespaces.dump_time(reader.pid)


def number(ctx: DumpContext, s: Any) -> None:
    """After the namespaces got their ids: each process's time_for_children other than its own."""
    for t in ctx.tasks:
        if not t.alive:
            continue
        mine = s.of[t.pid]
        tfc = mine.get("time_for_children", mine.get("time"))
        if tfc != mine.get("time"):
            t.core.tc.stasis.time_for_children_ns_id = s.id_of("time", tfc)


def write_images(ctx: DumpContext, ids: dict[tuple[str, int], int]) -> None:
    for ino, e in _dstate(ctx).entries.items():
        ctx.images.write("timens", e, ns_id=ids[("time", ino)])


# -- restore ---------------------------------------------------------------------------------------

@record
class Forking:
    holders: dict[int, Task] = field(default_factory=dict)  # time ns id -> a process in it
    tfc: dict[int, int] = field(default_factory=dict)  # pid -> its time_for_children now
    born_in: dict[int, int] = field(default_factory=dict)  # pid -> the ns it is born in (made for it)


def _state(ctx: RestoreContext) -> Forking:
    f: Forking = ctx.files.state(Forking)
    if not f.holders:
        f.holders[ctx.root.ids.time_ns_id] = ctx.root
    return f


def _dumped_tfc(t: Task) -> int:
    x = t.core.tc.stasis
    return x.time_for_children_ns_id if x.HasField("time_for_children_ns_id") else t.ids.time_ns_id


def _offsets(ctx: RestoreContext, who: Task, ns_id: int) -> None:
    """who's time_for_children (just made, empty) gets the offsets of namespace ns_id."""
    from engine.objects import namespaces

    e = ctx.images.read_one("timens", ns_id=ns_id)
    namespaces.set_offsets(who.pid, e)


def _setns(ctx: RestoreContext, t: Task, holder: Task, link: str = "time") -> None:
    fd = open_by_engine(ctx, t, f"/proc/{holder.pid}/ns/{link}", O_RDONLY)
    try:
        t.injector.call(nr.setns, fd, CLONE_NEWTIME, what=f"setns(time namespace of pid {holder.pid})")
    finally:
        t.injector.call(nr.close, fd, what="close")


def _wanted(ctx: RestoreContext, creator: Task, child: Task) -> tuple[Forking, int, int] | None:
    """(state, the child's time namespace, the creator's time_for_children now); None for a zombie."""
    if not child.alive or not child.ids.HasField("time_ns_id"):
        return None
    return _state(ctx), child.ids.time_ns_id, _state(ctx).tfc.get(creator.pid, creator.ids.time_ns_id)


def before_clone(ctx: RestoreContext, creator: Task, child: Task) -> None:
    """A child born in a namespace its creator made for its children: made now, offsets and all."""
    got = _wanted(ctx, creator, child)
    if got is None:
        return
    f, want, cur = got
    if want == cur or want in f.holders or _dumped_tfc(creator) != want:
        return
    creator.injector.call(nr.unshare, CLONE_NEWTIME, what="unshare(CLONE_NEWTIME)")
    _offsets(ctx, creator, want)
    f.tfc[creator.pid] = want
    f.born_in[child.pid] = want
    log.debug("pid %d: a time namespace for its children (id %d)", creator.pid, want)


def after_clone(ctx: RestoreContext, creator: Task, child: Task) -> None:
    """Right after the clone: the child in its time namespace."""
    got = _wanted(ctx, creator, child)
    if got is None:
        return
    f, want, inherited = got
    if f.born_in.pop(child.pid, None) == want:
        f.holders[want] = child
    elif inherited != want:
        holder = f.holders.get(want) or (creator if want == creator.ids.time_ns_id else None)
        if holder is not None:
            _setns(ctx, child, holder)
        elif _dumped_tfc(child) == want:  # it made the namespace and entered it
            child.injector.call(nr.unshare, CLONE_NEWTIME, what="unshare(CLONE_NEWTIME)")
            _offsets(ctx, child, want)
            _setns(ctx, child, child, "time_for_children")
            f.holders[want] = child
            log.debug("pid %d: a time namespace of its own (id %d)", child.pid, want)
        else:
            raise RestoreError(f"pid {child.pid}: its time namespace (id {want}) has no process to enter "
                               "it by")
    f.holders.setdefault(want, child)
    f.tfc[child.pid] = want


def restore_tfc(ctx: RestoreContext) -> None:
    """Every process's time_for_children as it was (its own time namespace unless it had unshared one)."""
    f = _state(ctx)
    for t in ctx.tasks:
        if not t.alive or not t.ids.HasField("time_ns_id"):
            continue
        want = _dumped_tfc(t)
        if f.tfc.get(t.pid, t.ids.time_ns_id) == want:
            continue
        if want != t.ids.time_ns_id:
            raise RestoreError(f"pid {t.pid}: its time_for_children (id {want}) could not be given back")
        _setns(ctx, t, t)  # into its own again: its children are born there
        f.tfc[t.pid] = want
