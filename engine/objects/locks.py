"""File locks (filelocks.img, with --file-locks as criu) and SysV semaphores (refused).

Dump reads every lock of the tree from the `lock:` lines of /proc/PID/fdinfo/N: the kernel lists there
the flock() and OFD locks of that open file description and the POSIX locks its process owns through
it (a lock line is "N: KIND ADVISORY|MANDATORY READ|WRITE PID MAJ:MIN:INO START END|EOF"). /proc/locks is
read to find POSIX locks of the tree's processes that no fd shows (refused). Locks held by processes
outside the tree on files the tree uses are not ours: they stay where they are. Waiters (a task of the
tree blocked in F_SETLKW or flock) hold nothing: their syscall restarts after restore and waits again.

Without --file-locks a held lock is refused (criu's behaviour): restoring the tree without it would let
another process take a lock the program thinks it holds. Leases and delegations are refused always.

Restore takes every lock again in the task, once its fds are placed (stage file-locks, after files): a
POSIX lock is the process's (fcntl F_SETLK with the exact range and type, by the process that held it,
so /proc/locks shows the same pid); flock() and OFD locks belong to the open file description, which
the task shares with the engine's fd broker (flock by the process that took it, for the same reason).
A lock that cannot be taken again (another process took a conflicting one meanwhile) fails the restore
with a message naming it; the images stay for a retry.

SysV semaphores the tree operated last on are refused: the kill that ends a dump applies the tree's
SEM_UNDO adjustments, and they cannot be read to be restored.
"""

from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING

from engine.abi import nr
from engine.abi.consts import F_OFD_SETLK, F_RDLCK, F_SETLK, F_WRLCK, LOCK_EX, LOCK_NB, LOCK_SH
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import file_lock_pb2
from engine.objects.base import KernelObject, Phase, Stage
from engine.objects.files import table as files
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

# CRIU's file_lock_entry.flag values (criu/include/file-lock.h)
FL_POSIX, FL_FLOCK, FL_OFD = 1, 2, 4
FLAGS = {"POSIX": FL_POSIX, "FLOCK": FL_FLOCK, "OFDLCK": FL_OFD}
NAMES = {FL_POSIX: "POSIX (fcntl) lock", FL_FLOCK: "flock() lock", FL_OFD: "OFD lock"}
KINDS = {"FLOCK": "flock() lock", "POSIX": "POSIX (fcntl) lock", "OFDLCK": "OFD lock", "LEASE": "lease",
         "DELEG": "delegation"}
TYPES = {"READ": F_RDLCK, "WRITE": F_WRLCK}
FLOCK = struct.Struct("<hh4xqqi4x")  # struct flock { short l_type, l_whence; off_t l_start, l_len; pid_t }
GETPID, SEM_STAT_ANY = 11, 20


@record
class Lock:
    """One lock line of an fdinfo, with where it was seen."""

    flag: int
    type: int
    pid: int  # as the kernel shows it: the locker (POSIX, flock), -1 for OFD locks
    start: int
    len: int  # 0: to the end of the file
    dev_ino: str
    seen_pid: int  # the process whose fdinfo lists it
    seen_fd: int

    def describe(self) -> str:
        end = "EOF" if self.len == 0 else str(self.start + self.len - 1)
        mode = "READ" if self.type == F_RDLCK else "WRITE"
        return f"{NAMES[self.flag]} {mode} [{self.start}, {end}] on {self.dev_ino}"


@record
class Locks:
    """The tree's locks (dump: seen in fdinfo; restore: read from filelocks.img)."""

    seen: list[Lock] = field(default_factory=list)
    entries: list[file_lock_pb2.file_lock_entry] = field(default_factory=list)


def _parse(line: str) -> list[str]:
    """The words of a lock line after its id: KIND ADVISORY TYPE PID DEV:INO START END."""
    return line.partition(":")[2].split()


def _lock_lines(pid: int, fd: int) -> list[str]:
    with open(f"/proc/{pid}/fdinfo/{fd}") as f:
        return [line.partition(":")[2].strip() for line in f if line.startswith("lock:")]


# -- dump ------------------------------------------------------------------------------------------

def check(ctx: DumpContext, t: Task) -> None:
    if not t.alive:
        return
    tree = {o.pid for o in ctx.tasks if o.alive}
    st = ctx.files.state(Locks)
    for info in t.facts.fds:
        if "lock" not in info.extra:
            continue
        where = f"pid {t.pid} fd {info.fd} ({info.target})"
        try:
            lines = _lock_lines(t.pid, info.fd)
        except FileNotFoundError:
            continue
        for line in lines:
            words = _parse(line)
            kind = KINDS.get(words[0] if words else "", "lock")
            if len(words) < 7 or words[0] not in FLAGS:
                raise UnsupportedError(f"{where} holds a {kind} ({line!r}): leases and delegations are not "
                                       "restored, not even with --file-locks (a lease's owner and pending "
                                       "break cannot be set again)")
            if not ctx.opts.file_locks:
                raise UnsupportedError(f"{where} holds a {kind}: file locks are dumped only with "
                                       "--file-locks (-l)")
            if words[1] != "ADVISORY" or words[2] not in TYPES:
                raise UnsupportedError(f"{where} holds a {words[1].lower()} {words[2]} {kind}: only advisory "
                                       "READ and WRITE locks are restored")
            start = int(words[5])
            length = 0 if words[6] == "EOF" else int(words[6]) - start + 1
            lock = Lock(FLAGS[words[0]], TYPES[words[2]], int(words[3]), start, length, words[4], t.pid,
                        info.fd)
            if lock.flag == FL_FLOCK and lock.pid not in tree and os.path.exists(f"/proc/{lock.pid}"):
                raise UnsupportedError(f"{where}: its open file description holds a flock() lock taken by "
                                       f"pid {lock.pid}, outside the tree: restore could not take it again "
                                       "while that process holds the description")
            st.seen.append(lock)


def _mapped_files(pids: set[int]) -> dict[str, str]:
    """MAJ:MIN:INO (as /proc/locks writes it) -> path, of every file the processes `pids` map."""
    found: dict[str, str] = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/maps") as f:
                rows = f.read().splitlines()
        except (FileNotFoundError, ProcessLookupError):
            continue
        for row in rows:
            words = row.split(maxsplit=5)
            if len(words) == 6 and words[4] != "0":
                found.setdefault(f"{words[3]}:{words[4]}", words[5])
    return found


def _check_mapped(ctx: DumpContext, lines: list[str], tree: set[int]) -> None:
    """A flock() lock stays with its open file description while a mapping holds the description, with
    no fd left (the JVM's hsperfdata file: opened, flock()ed, mmap()ed, closed): no fdinfo shows it, so
    it would not be taken again at restore. Refused, with --file-locks or without (restore takes locks
    through fds only). An OFD lock in /proc/locks names no process (-1): one the tree holds through a
    mapping only cannot be told apart from another process's, and is not looked for."""
    seen = {lk.dev_ino for lk in ctx.files.state(Locks).seen if lk.flag == FL_FLOCK}
    mapped: dict[str, str] | None = None
    for line in lines:
        words = line.split()[1:]
        if len(words) < 7 or words[0] != "FLOCK" or int(words[3]) not in tree or words[4] in seen:
            continue
        if mapped is None:
            mapped = _mapped_files(tree)
        if words[4] in mapped:
            raise UnsupportedError(f"pid {words[3]} holds a flock() {words[2]} lock on {mapped[words[4]]} "
                                   f"({words[4]}) through a mapping of the file only (no fd of the tree "
                                   "shows it): it would not be taken again at restore")


def dump_tree(ctx: DumpContext) -> None:
    """Every POSIX lock /proc/locks shows for a process of the tree must have been seen in its fdinfo;
    a flock() lock no fd shows must not be held through a mapping (_check_mapped)."""
    tree = {o.pid for o in ctx.tasks if o.alive}
    try:
        with open("/proc/locks") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return
    _check_mapped(ctx, lines, tree)
    if not ctx.opts.file_locks:
        return
    st = ctx.files.state(Locks)
    seen = {(lk.pid, lk.dev_ino, lk.start, lk.len) for lk in st.seen if lk.flag == FL_POSIX}
    for line in lines:
        words = line.split()[1:]
        if not words or words[0] == "->" or words[0] != "POSIX" or len(words) < 7:
            continue  # a waiter holds nothing: its syscall restarts after restore
        pid = int(words[3])
        start = int(words[5])
        length = 0 if words[6] == "EOF" else int(words[6]) - start + 1
        if pid in tree and (pid, words[4], start, length) not in seen:
            raise UnsupportedError(f"pid {pid} holds a POSIX lock on {words[4]} [{words[5]}, {words[6]}] "
                                   "that no fd of the tree shows in its fdinfo: it cannot be restored")


def write_images(ctx: DumpContext) -> None:
    st = ctx.files.state(Locks)
    if not st.seen:
        return
    tasks = {t.pid: t for t in ctx.tasks if t.alive}
    fid_of: dict[tuple[int, int], int] = {}  # (files_id, fd) -> file id
    for t in tasks.values():
        tf = files.state(t)
        if tf.owns_table:
            for fdi in tf.fdinfo:
                fid_of[(t.ids.files_id, fdi.fd)] = fdi.id

    def fid(pid: int, fd: int) -> int:
        return fid_of.get((tasks[pid].ids.files_id, fd), 0)

    # a description's flock/OFD lock is listed by every fd of it: once per description, taken again by
    # the process that took it when it still holds the description (so the lock shows the same pid)
    chosen: dict[tuple[object, ...], tuple[int, int]] = {}
    for lk in st.seen:
        if lk.flag == FL_POSIX:
            key: tuple[object, ...] = (lk.flag, lk.seen_pid, lk.dev_ino, lk.start, lk.len)
            same_table = lk.pid in tasks and tasks[lk.pid].ids.files_id == tasks[lk.seen_pid].ids.files_id
            holder = lk.pid if same_table else lk.seen_pid
            chosen.setdefault(key, (holder, lk.seen_fd))
            continue
        desc = fid(lk.seen_pid, lk.seen_fd)
        key = (lk.flag, desc, lk.type, lk.start, lk.len)
        if key not in chosen or (lk.seen_pid == lk.pid and chosen[key][0] != lk.pid):
            chosen[key] = (lk.seen_pid, lk.seen_fd)
    for lk in st.seen:
        if lk.flag == FL_POSIX:
            key = (lk.flag, lk.seen_pid, lk.dev_ino, lk.start, lk.len)
        else:
            key = (lk.flag, fid(lk.seen_pid, lk.seen_fd), lk.type, lk.start, lk.len)
        if key not in chosen:
            continue
        pid, fd = chosen.pop(key)
        st.entries.append(file_lock_pb2.file_lock_entry(flag=lk.flag, type=lk.type, pid=pid, fd=fd,
                                                        start=lk.start, len=lk.len))
    ctx.images.write("filelocks", st.entries)


# -- restore ---------------------------------------------------------------------------------------

def load_images(ctx: RestoreContext) -> None:
    ctx.files.state(Locks).entries = list(ctx.images.read("filelocks", missing_ok=True))


def restore(ctx: RestoreContext, t: Task) -> None:
    """Take this process's locks again, in the task, now that its fds are in place."""
    inj = t.injector
    for e in ctx.files.state(Locks).entries:
        if e.pid != t.pid:
            continue
        if e.flag not in NAMES or e.type not in (F_RDLCK, F_WRLCK):
            raise RestoreError(f"filelocks.img: pid {e.pid} fd {e.fd}: unknown lock flag {e.flag} "
                               f"type {e.type}")
        if e.flag == FL_FLOCK:
            what = f"flock({e.fd}, {'LOCK_SH' if e.type == F_RDLCK else 'LOCK_EX'} | LOCK_NB)"
            ret = inj.raw(nr.flock, e.fd, (LOCK_SH if e.type == F_RDLCK else LOCK_EX) | LOCK_NB)
        else:
            cmd = F_SETLK if e.flag == FL_POSIX else F_OFD_SETLK
            inj.put(FLOCK.pack(e.type, os.SEEK_SET, e.start, e.len, 0))
            what = f"fcntl({e.fd}, {'F_SETLK' if e.flag == FL_POSIX else 'F_OFD_SETLK'})"
            ret = inj.raw(nr.fcntl, e.fd, cmd, inj.scratch)
        if ret < 0:
            end = "EOF" if e.len == 0 else str(e.start + e.len - 1)
            mode = "READ" if e.type == F_RDLCK else "WRITE"
            why = ("another process holds a conflicting lock now" if -ret in (11, 13) else os.strerror(-ret))
            raise RestoreError(f"pid {t.pid} fd {e.fd}: cannot take its {NAMES[e.flag]} {mode} [{e.start}, "
                               f"{end}] again: {what}: {why} (the images are kept: retry once it is free)")


OBJECT = KernelObject("locks", check=check, dump_tree=dump_tree, write_images=write_images,
                      load_images=load_images,
                      stages=(Stage("file-locks", Phase.PROCESS, restore, after=("files",),
                                    doc="once the fds are placed: closing an fd drops the process's POSIX "
                                        "locks on its file"),))
