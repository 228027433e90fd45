"""epoll instances: every registration with its events and data, the target found by kcmp.

Dump: the registrations are the `tfd:` lines of the epoll fd's fdinfo (fd number at registration,
events, data, and the target's inode), inline in file_entry.epfd as CRIU writes them (each entry's `id`
is the epoll's own). The fd number may have been closed or dup'ed since, so the target's file is found
with kcmp(KCMP_EPOLL_TFD) among every fd of the tree (the same fd number of the same process first), and
its file id goes in a Stasis extension of the entry. A target that no fd of the tree holds (the epoll
holds no reference: the file lives on only because something outside the tree has it open) is refused.

Restore: the engine makes the instance (epoll_create1), and each registration is made in a task that
holds the instance, with EPOLL_CTL_ADD on the registration's own fd number (the kernel keys an item by
file and fd number, shows that number in fdinfo, and the program's EPOLL_CTL_MOD/DEL use it): the target
is put at that number for the call when the task has something else there or nothing, and the number is
given back after. A EPOLLONESHOT registration that fired (its events masked to the private bits) is
added armed for every event and fired at once by an injected epoll_wait, which leaves it exactly as
disarmed; the dump refuses one whose target is not ready for any event (it could not be fired).
Afterwards the task's fdinfo must show every registration as the image has it.
"""

from __future__ import annotations

import heapq
import os
import re
import select
import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING

from engine.abi import nr
from engine.abi.consts import (
    EP_PRIVATE_BITS,
    EPOLL_CLOEXEC,
    EPOLL_CTL_ADD,
    EPOLLERR,
    EPOLLHUP,
    EPOLLIN,
    EPOLLMSG,
    EPOLLONESHOT,
    EPOLLOUT,
    EPOLLPRI,
    EPOLLRDBAND,
    EPOLLRDHUP,
    EPOLLRDNORM,
    EPOLLWRBAND,
    EPOLLWRNORM,
    F_DUPFD_CLOEXEC,
    FD_CLOEXEC,
    KCMP_EPOLL_TFD,
    O_CLOEXEC,
    O_NONBLOCK,
)
from engine.compel.pidfd import getfd
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import eventpoll_pb2, fdinfo_pb2
from engine.log import log
from engine.native import ffi, lib
from engine.native import syscall as native_syscall
from engine.objects.base import KernelObject, Phase, Stage
from engine.objects.files.kind import Fd, FdKind
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.proc import FdInfo
    from engine.task import Task

TARGET = "anon_inode:[eventpoll]"
EVENT = struct.Struct("<IQ")  # struct epoll_event (packed on x86_64)
ALL_EVENTS = (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDNORM | EPOLLRDBAND | EPOLLWRNORM
              | EPOLLWRBAND | EPOLLMSG | EPOLLRDHUP)
_TFD = re.compile(r"tfd:\s*(\d+)\s+events:\s*([0-9a-f]+)\s+data:\s*([0-9a-f]+)\s+pos:\s*(-?\d+)\s+"
                  r"ino:\s*([0-9a-f]+)\s+sdev:\s*([0-9a-f]+)")


@record(frozen=True)
class Registration:
    """One `tfd:` line of an epoll fd's fdinfo."""

    tfd: int
    events: int
    data: int
    pos: int
    ino: int
    sdev: int

    @property
    def fired(self) -> bool:
        return fired(self.events)


def fired(events: int) -> bool:
    """A EPOLLONESHOT registration that fired: the kernel masked its events to the private bits."""
    return bool(events & EPOLLONESHOT) and not events & ~EP_PRIVATE_BITS


def registrations(pid: int, fd: int) -> list[Registration]:
    with open(f"/proc/{pid}/fdinfo/{fd}") as f:
        text = f.read()
    return [Registration(int(m[1]), int(m[2], 16), int(m[3], 16), int(m[4]), int(m[5], 16), int(m[6], 16))
            for m in _TFD.finditer(text)]


class FdIndex:
    """One process's fds by inode and by number, built once: the candidates for a registration's target
    are found without going through every fd of the process for every registration."""

    def __init__(self, fds: list[FdInfo]) -> None:
        self.by_num = {i.fd: i for i in fds}
        self.by_ino: dict[int, list[FdInfo]] = {}
        for i in fds:
            self.by_ino.setdefault(i.ino, []).append(i)

    def candidates(self, ino: int, tfd: int) -> Iterator[FdInfo]:
        """The fds with the target's inode (or none shown), the one numbered tfd first, then by number."""
        pools = [self.by_ino.get(ino, [])]
        if ino:
            pools.append(self.by_ino.get(0, []))
        first = self.by_num.get(tfd)
        if first is not None and first.ino in (ino, 0):
            yield first
        yield from (i for i in heapq.merge(*pools, key=lambda i: i.fd) if i.fd != tfd)


@record
class EpollDump:
    # (pid, epoll fd) -> its registrations, each with the (files_id, fd) of an fd that holds the target
    targets: dict[tuple[int, int], list[tuple[Registration, tuple[int, int]]]] = field(default_factory=dict)
    # tfd entries whose target's file id is known only once every fd table is dumped
    pending: list[tuple[fdinfo_pb2.file_entry, int, tuple[int, int]]] = field(default_factory=list)
    indexes: dict[int, FdIndex] = field(default_factory=dict)  # pid -> its fds

    def index(self, pid: int, fds: list[FdInfo]) -> FdIndex:
        if pid not in self.indexes:
            self.indexes[pid] = FdIndex(fds)
        return self.indexes[pid]


@record
class EpollRestore:
    done: set[int] = field(default_factory=set)  # epoll file ids whose registrations are made


def matches(fd: Fd) -> bool:
    return fd.target == TARGET


# -- dump ------------------------------------------------------------------------------------------

def same_target(pid: int, fd: int, epoll_pid: int, epfd: int, tfd: int, toff: int) -> bool:
    """kcmp(KCMP_EPOLL_TFD): is fd `fd` of `pid` the file that epoll_pid's epoll `epfd` has as (tfd, toff)?"""
    slot = ffi.new("uint32_t[3]", [epfd, tfd, toff])  # struct kcmp_epoll_slot
    return lib.st_syscall(nr.kcmp, pid, epoll_pid, KCMP_EPOLL_TFD, fd, int(ffi.cast("uintptr_t", slot)),
                          0) == 0


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    """Find an fd of the tree for every target (before anything touches a task)."""
    st = ctx.files.state(EpollDump)
    regs = registrations(t.pid, fd.num)
    seen: dict[int, int] = {}
    found: list[tuple[Registration, tuple[int, int]]] = []
    holders = [o for o in ctx.tasks if o.alive]
    holders.sort(key=lambda o: o is not t)  # this process first
    for r in regs:
        toff = seen.get(r.tfd, 0)
        seen[r.tfd] = toff + 1
        holder = None
        for o in holders:
            index = st.index(o.pid, o.facts.fds)
            found_fd = next((i for i in index.candidates(r.ino, r.tfd)
                             if same_target(o.pid, i.fd, t.pid, fd.num, r.tfd, toff)), None)
            if found_fd is not None:
                holder = (o.ids.files_id, found_fd.fd)
                if r.fired:
                    _check_fired(fd, r, o.pid, found_fd.fd, found_fd.target)
                break
        if holder is None:
            raise UnsupportedError(f"{fd.where}: the target registered as fd {r.tfd} (inode {r.ino}) is "
                                   "held by no fd of the tree (its fds in the tree were closed after "
                                   "EPOLL_CTL_ADD; something outside the tree keeps it open): not supported")
        found.append((r, holder))
    st.targets[(t.pid, fd.num)] = found


def _check_fired(fd: Fd, r: Registration, pid: int, num: int, target: str) -> None:
    """A fired oneshot is restored by firing it again: its target must be ready for some event now."""
    if target == TARGET:
        raise UnsupportedError(f"{fd.where}: a EPOLLONESHOT registration of fd {r.tfd} that fired, on an "
                               "epoll (not supported: it could not be restored disarmed)")
    mine = getfd(pid, num)
    try:
        p = select.poll()
        p.register(mine, ALL_EVENTS)
        ready = p.poll(0)
    finally:
        os.close(mine)
    if not ready:
        raise UnsupportedError(f"{fd.where}: a EPOLLONESHOT registration of fd {r.tfd} that fired, on a "
                               "target ready for no event (not supported: it could not be restored disarmed)")


def dump(ctx: DumpContext, t: Task, fd: Fd, e: fdinfo_pb2.file_entry) -> None:
    st = ctx.files.state(EpollDump)
    for r, holder in st.targets[(t.pid, fd.num)]:
        e.epfd.tfd.add(id=e.id, tfd=r.tfd, events=r.events, data=r.data, dev=r.sdev, inode=r.ino,
                       pos=r.pos)
        st.pending.append((e, len(e.epfd.tfd) - 1, holder))


def fill_target_ids(ctx: DumpContext) -> None:
    """Every fd table is dumped: each target's file id (runs before files.img is written)."""
    st = ctx.files.state(EpollDump)
    ids: dict[tuple[int, int], int] = {}
    for t in ctx.tasks:
        if t.alive and t.files is not None and t.files.owns_table:
            for fdi in t.files.fdinfo:
                ids[(t.ids.files_id, fdi.fd)] = fdi.id
    for e, i, holder in st.pending:
        e.epfd.tfd[i].stasis.target = ids[holder]


# -- restore ---------------------------------------------------------------------------------------

def open_(ctx: RestoreContext, e: fdinfo_pb2.file_entry) -> int:
    fd = native_syscall(nr.epoll_create1, EPOLL_CLOEXEC, what="epoll_create1")
    if e.epfd.flags & O_NONBLOCK:
        os.set_blocking(fd, False)
    return fd


def restore(ctx: RestoreContext, t: Task) -> None:
    """The registrations of every epoll this process holds first, made in it with its fd numbers."""
    tf = t.files
    if tf is None or not tf.owns_table:
        return
    st = ctx.files.state(EpollRestore)
    placed = {fdi.fd: fdi for fdi in tf.fdinfo}
    for fdi in sorted(tf.fdinfo, key=lambda x: x.fd):
        e = ctx.files.get(fdi.id)
        if e.type != fdinfo_pb2.EVENTPOLL or e.id in st.done:
            continue
        st.done.add(e.id)
        if e.epfd.tfd:
            _register(ctx, t, fdi.fd, e, placed)


def _register(ctx: RestoreContext, t: Task, epfd: int, e: fdinfo_pb2.file_entry,
              placed: dict[int, fdinfo_pb2.fdinfo_entry]) -> None:
    tf = t.files
    assert tf is not None
    inj = t.injector
    tfds = {x.tfd for x in e.epfd.tfd}
    top = max([*tfds, *placed]) + 1
    if tf.engine_pidfd in tfds:  # a registration's number is where the engine's pidfd sits: move it
        newfd = inj.call(nr.fcntl, tf.engine_pidfd, F_DUPFD_CLOEXEC, top, what="fcntl(F_DUPFD_CLOEXEC)")
        inj.call(nr.close, tf.engine_pidfd, what="close")
        log.debug("pid %d: the engine's pidfd moves from fd %d to %d (an epoll registration's number)", t.pid,
                  tf.engine_pidfd, newfd)
        tf.engine_pidfd = newfd
    ep = epfd
    if epfd in tfds:  # the instance itself must not be covered while a target sits at its number
        ep = inj.call(nr.fcntl, epfd, F_DUPFD_CLOEXEC, top, what="fcntl(F_DUPFD_CLOEXEC)")
    try:
        # fired oneshots first, each alone with the others already disarmed: the epoll_wait fires only it
        for x in sorted(e.epfd.tfd, key=lambda x: not fired(x.events)):
            events = x.events | ALL_EVENTS if fired(x.events) else x.events
            _add(ctx, t, ep, x, _target(t, epfd, x, placed), events, placed)
            if fired(x.events):
                n = inj.call(nr.epoll_wait, ep, inj.scratch, 1, 0, what="epoll_wait")
                if n != 1:
                    raise RestoreError(f"pid {t.pid} fd {epfd}: the fired EPOLLONESHOT registration of fd "
                                       f"{x.tfd} cannot be disarmed: its target is ready for no event")
    finally:
        if ep != epfd:
            inj.call(nr.close, ep, what="close")
    _verify(t, epfd, e)


def _target(t: Task, epfd: int, x: eventpoll_pb2.eventpoll_tfd_entry,
            placed: dict[int, fdinfo_pb2.fdinfo_entry]) -> int:
    """The target's file id: Stasis's images name it; CRIU's mean the task's fd numbered tfd."""
    if x.HasField("stasis"):
        return x.stasis.target
    if x.tfd in placed:
        return placed[x.tfd].id
    raise RestoreError(f"pid {t.pid} fd {epfd}: the epoll target registered as fd {x.tfd} names no file "
                       f"(an image without Stasis's target id, and the task has no fd {x.tfd})")


def _add(ctx: RestoreContext, t: Task, ep: int, x: eventpoll_pb2.eventpoll_tfd_entry, target: int,
         events: int, placed: dict[int, fdinfo_pb2.fdinfo_entry]) -> None:
    """EPOLL_CTL_ADD in the task with the registration's fd number, the target put there for the call."""
    tf = t.files
    assert tf is not None
    inj = t.injector
    what = f"epoll_ctl(EPOLL_CTL_ADD, fd {x.tfd})"
    here = placed.get(x.tfd)
    if here is not None and here.id == target:
        inj.put(EVENT.pack(events, x.data))
        inj.call(nr.epoll_ctl, ep, EPOLL_CTL_ADD, x.tfd, inj.scratch, what=what)
        return
    src = ctx.fd_broker.fd_for(target)
    tmp = ctx.fd_broker.hand_out(t, src)
    if tmp < 0:
        raise RestoreError(f"pid {t.pid}: pidfd_getfd for the epoll target of fd {x.tfd}: "
                           f"{os.strerror(-tmp)}")
    saved = -1
    try:
        if here is not None:  # the number holds another file now: keep it aside
            saved = inj.call(nr.fcntl, x.tfd, F_DUPFD_CLOEXEC, 0, what="fcntl(F_DUPFD_CLOEXEC)")
        if tmp != x.tfd:
            inj.call(nr.dup3, tmp, x.tfd, O_CLOEXEC, what=f"dup3 to fd {x.tfd}")
        inj.put(EVENT.pack(events, x.data))
        inj.call(nr.epoll_ctl, ep, EPOLL_CTL_ADD, x.tfd, inj.scratch, what=what)
    finally:
        if here is not None and saved >= 0:
            inj.call(nr.dup3, saved, x.tfd, O_CLOEXEC if here.flags & FD_CLOEXEC else 0,
                     what=f"dup3 to fd {x.tfd}")
            inj.call(nr.close, saved, what="close")
        elif here is None:
            inj.call(nr.close, x.tfd, what="close")
        if tmp != x.tfd:
            inj.call(nr.close, tmp, what="close")


def _verify(t: Task, epfd: int, e: fdinfo_pb2.file_entry) -> None:
    want = sorted((x.tfd, x.events, x.data) for x in e.epfd.tfd)
    got = sorted((r.tfd, r.events, r.data) for r in registrations(t.pid, epfd))
    if got != want:
        raise RestoreError(f"pid {t.pid} fd {epfd}: the epoll's registrations (tfd, events, data) are {got} "
                           f"after restore, the image has {want} (EPOLLWAKEUP needs CAP_BLOCK_SUSPEND)")


KIND = FdKind("epoll", fdinfo_pb2.EVENTPOLL, "epfd", matches, dump, open_, check=check)

OBJECT = KernelObject(
    "epoll",
    write_images=fill_target_ids,
    stages=(Stage("epoll", Phase.PROCESS, restore, after=("files",),
                  doc="in the task once its fds are placed: the kernel keys a registration by fd number"),),
)
