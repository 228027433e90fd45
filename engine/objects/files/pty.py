"""Unix98 pty pairs: /dev/ptmx (the master) and /dev/pts/N (the slave), both ends or only one.

Each end is one tty_info_entry in tty-info.img (CRIU's layout: the pair's index, termios, window size,
packet mode, lock, locked termios, this end's exclusive mode, the slave node's owner); each description a
tty_file_entry. The state is read at dump through the engine's own copy of an fd (pidfd_getfd; only
getters are used, so the tree keeps running untouched).

At restore the engine opens /dev/ptmx until the kernel gives the index N the pair had (it gives the
lowest free one; the others are closed again): a taken N is a RestoreError. Termios, window size and
packet mode are set through the master (the kernel applies termios and window size to the slave's
tty), slaves are opened as /dev/pts/N (unlocked for that moment if the pair was locked), then the
lock and exclusive mode are set. A master whose slave had been opened and closed is left so again
(its reads give EIO). A session whose controlling terminal is such a slave gets it again: its leader
takes it (TIOCSCTTY) before it forks its children, and sets the foreground group (TIOCSPGRP) once
every group exists. Refused: data queued in either direction (FIONREAD), a pending packet-mode
status byte, a pty of a devpts other than the engine's, a controlling pty whose session leader,
foreground group or slave fd is not in the tree. A slave
whose master is outside the tree is the caller's terminal: reopened by path with --shell-job; unless
it is a pty of the tree's own devpts (not the engine's): a container's console, whose master the runtime
holds (runc's --console-socket). Such an orphan slave (criu's "unpaired slave") is dumped with the state
its slave side shows (termios, window size, owner; no lock, no packet mode) and restored, with criu's
orphan_pts_master, as a new pair of the same index: the slave where it was, the new master handed to the
caller (RPC: the orphan-pts-master notify, the fd over SCM_RIGHTS), who gives it back to the console.
Not visible to the engine, so not checked: an unfinished line in canonical mode and data queued to
a slave that no fd of the tree holds.
"""

from __future__ import annotations

import fcntl
import os
import select
import stat as st
import struct
import time
from typing import TYPE_CHECKING

from engine.abi import nr
from engine.abi.consts import (
    FIONREAD,
    O_ACCMODE,
    O_CLOEXEC,
    O_LARGEFILE,
    O_NOCTTY,
    O_NONBLOCK,
    O_RDWR,
    PTMX_MAJOR,
    PTMX_MINOR,
    TCGETS2,
    TCSETS2,
    TIOCEXCL,
    TIOCGEXCL,
    TIOCGLCKTRMIOS,
    TIOCGPKT,
    TIOCGPTLCK,
    TIOCGPTN,
    TIOCGPTPEER,
    TIOCGWINSZ,
    TIOCPKT,
    TIOCSCTTY,
    TIOCSLCKTRMIOS,
    TIOCSPGRP,
    TIOCSPTLCK,
    TIOCSWINSZ,
    UNIX98_PTY_MAJOR_COUNT,
    UNIX98_PTY_SLAVE_MAJOR,
)
from engine.compel.pidfd import getfd
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import fdinfo_pb2, tty_pb2
from engine.log import log
from engine.objects import taskroot
from engine.objects.base import KernelObject, Phase, Stage
from engine.objects.files import paths
from engine.objects.files.kind import Fd, FdKind
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

TERMIOS2 = struct.Struct("<IIIIB19sII")  # struct termios2 (NCCS 19)
TERMIOS = struct.Struct("<IIIIB19s")  # the kernel's struct termios (locked termios)
WINSIZE = struct.Struct("<HHHH")
INT = struct.Struct("<i")
PTMX_RDEV = os.makedev(PTMX_MAJOR, PTMX_MINOR)
PTMX = "/dev/ptmx"


def _is_slave_rdev(rdev: int) -> bool:
    return UNIX98_PTY_SLAVE_MAJOR <= os.major(rdev) < UNIX98_PTY_SLAVE_MAJOR + UNIX98_PTY_MAJOR_COUNT


def _slave_index(rdev: int) -> int:
    return (os.major(rdev) - UNIX98_PTY_SLAVE_MAJOR) * 256 + os.minor(rdev)


def matches(fd: Fd) -> bool:
    return (fd.target.startswith("/") and st.S_ISCHR(fd.stat.st_mode)
            and (fd.stat.st_rdev == PTMX_RDEV or _is_slave_rdev(fd.stat.st_rdev)))


def _ioctl_int(fd: int, req: int) -> int:
    return int(INT.unpack(fcntl.ioctl(fd, req, bytes(INT.size)))[0])


@record
class PtyDump:
    scanned: bool = False
    masters: dict[int, tuple[int, int]] = field(default_factory=dict)  # index -> (pid, fd) of a master
    devpts: dict[int, int] = field(default_factory=dict)  # index -> st_dev of its devpts
    infos: dict[tuple[int, bool], tty_pb2.tty_info_entry] = field(default_factory=dict)  # (index, master)
    ctty: dict[int, tuple[int, int]] = field(default_factory=dict)  # index -> (sid, foreground pgrp)
    orphans: set[int] = field(default_factory=set)  # slaves of the tree's own devpts, their master outside
    tree_devpts: int = -1  # st_dev of the tree's /dev/pts


@record
class PtyRestore:
    infos: dict[int, tty_pb2.tty_info_entry] = field(default_factory=dict)  # by id
    master_flags: dict[int, int] = field(default_factory=dict)  # index -> flags of its master description
    has_slaves: set[int] = field(default_factory=set)  # indexes with slave descriptions in the images
    masters: dict[int, int] = field(default_factory=dict)  # index -> engine fd of the new master
    handed: set[int] = field(default_factory=set)  # masters handed out as they are
    extra: list[int] = field(default_factory=list)  # slaves opened
    ctty: dict[int, tuple[int, int]] = field(default_factory=dict)  # sid -> (slave file id, foreground pgrp)
    orphans: set[int] = field(default_factory=set)  # slaves without a master in the images: a new one each

    def owned_fds(self) -> list[int]:
        fds = list(self.masters.values()) + self.extra
        self.masters.clear()
        self.extra.clear()
        return fds


# -- dump ------------------------------------------------------------------------------------------

def _scan(ctx: DumpContext) -> PtyDump:
    """Every master of the tree by its index, and whose session has one of them as its terminal."""
    s = ctx.files.state(PtyDump)
    if s.scanned:
        return s
    s.scanned = True
    for t in ctx.tasks:
        if not t.alive:
            continue
        for info in t.facts.fds:
            if info.target not in (PTMX, "/dev/pts/ptmx"):
                continue
            try:
                if os.stat(f"/proc/{t.pid}/fd/{info.fd}").st_rdev != PTMX_RDEV:
                    continue
                mine = getfd(t.pid, info.fd)
            except OSError as exc:
                raise UnsupportedError(f"pid {t.pid} fd {info.fd} ({info.target}): cannot read it: "
                                       f"{exc.strerror}") from exc
            try:
                index = _ioctl_int(mine, TIOCGPTN)
            finally:
                os.close(mine)
            s.masters.setdefault(index, (t.pid, info.fd))
            s.devpts[index] = os.stat(f"/proc/{t.pid}/root/dev/pts").st_dev
    s.tree_devpts = os.stat(f"/proc/{ctx.root.pid}/root/dev/pts").st_dev
    if s.tree_devpts != os.stat("/dev/pts").st_dev:  # a devpts of the tree's own: its slaves are its own
        for t in ctx.tasks:
            for info in t.facts.fds if t.alive else ():
                if not info.target.startswith("/dev/pts/"):
                    continue
                try:
                    sb = os.stat(f"/proc/{t.pid}/fd/{info.fd}")
                except OSError:
                    continue
                index = _slave_index(sb.st_rdev)
                if (st.S_ISCHR(sb.st_mode) and _is_slave_rdev(sb.st_rdev) and index not in s.masters
                        and sb.st_dev == s.tree_devpts):
                    s.orphans.add(index)
                    s.devpts[index] = sb.st_dev
    if s.masters or s.orphans:
        _scan_ctty(ctx, s)
    return s


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()  # from state on: pgrp 2, session 3, tty_nr 4, tpgid 5


def _scan_ctty(ctx: DumpContext, s: PtyDump) -> None:
    """A pty of the tree that is a session's controlling terminal: the session leader must be in the tree,
    every process of its session with it as terminal, a slave fd in the tree and the foreground group
    one of the tree's."""
    alive = [t for t in ctx.tasks if t.alive]
    pgids = {t.pgid for t in alive}
    for t in alive:
        f = _stat_fields(t.pid)
        tty_nr, tpgid = int(f[4]), int(f[5])
        if not (tty_nr and _is_slave_rdev(tty_nr) and _slave_index(tty_nr) in s.masters.keys() | s.orphans):
            continue
        index = _slave_index(tty_nr)
        where = f"pid {t.pid}: the controlling terminal of its session is the tree's own pty /dev/pts/{index}"
        leader = next((x for x in alive if x.pid == t.sid and x.sid == x.pid), None)
        if leader is None:
            raise UnsupportedError(f"{where}, and its session leader {t.sid} is not in the tree "
                                   "(not supported)")
        if tpgid not in pgids:
            raise UnsupportedError(f"{where}, and its foreground group {tpgid} is not in the tree "
                                   "(not supported)")
        if not any(i.target == f"/dev/pts/{index}" for x in alive for i in x.facts.fds):
            raise UnsupportedError(f"{where}, but no process of the tree has it open (not supported)")
        if s.ctty.setdefault(index, (t.sid, tpgid)) != (t.sid, tpgid):
            raise UnsupportedError(f"{where}: two sessions or foreground groups for it (not supported)")
    for t in alive:  # a process of such a session without that terminal (forked before it was taken)
        for index, (sid, _) in s.ctty.items():
            tn = int(_stat_fields(t.pid)[4])
            if t.sid == sid and not (tn and _is_slave_rdev(tn) and _slave_index(tn) == index):
                raise UnsupportedError(f"pid {t.pid}: in session {sid} but without its controlling terminal "
                                       f"/dev/pts/{index} (not supported)")


def ctty_of(pid: int) -> int:
    """The process's controlling terminal (tty_nr of /proc/PID/stat, encoded as st_rdev), 0 if none."""
    return int(_stat_fields(pid)[4])


def is_tree_ctty(ctx: DumpContext, tty_nr: int) -> bool:
    """Is this controlling terminal a pty the tree holds (restored with its session)?"""
    return _is_slave_rdev(tty_nr) and _slave_index(tty_nr) in _scan(ctx).ctty


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    s = _scan(ctx)
    master = fd.stat.st_rdev == PTMX_RDEV
    if master:
        index = _index_of(fd)
    else:
        index = _slave_index(fd.stat.st_rdev)
        orphan = index in s.orphans and fd.stat.st_dev == s.tree_devpts
        if not orphan and (index not in s.masters or s.devpts.get(index) != fd.stat.st_dev):
            if not ctx.opts.shell_job:
                raise UnsupportedError(f"{fd.where}: a terminal whose master is not in the tree; "
                                       "use --shell-job")
            paths.check_path(t.pid, fd.target, fd.stat, fd.where)
            return
    if s.devpts.get(index) != os.stat(f"/proc/{ctx.root.pid}/root/dev/pts").st_dev:  # the engine's in h
        raise UnsupportedError(f"{fd.where}: a pty of another devpts instance than the tree's /dev/pts "
                               "(not supported)")
    if master and fd.info.flags & O_ACCMODE != O_RDWR:
        raise UnsupportedError(f"{fd.where}: a pty master not opened read-write (not supported)")
    mine = getfd(fd.pid, fd.num)
    try:
        queued = _ioctl_int(mine, FIONREAD)
        if queued:
            side = "the slave's output" if master else "the master's output"
            raise UnsupportedError(f"{fd.where}: {queued} bytes of {side} are queued in the pty, not read "
                                   "yet (not supported)")
        if (index, master) not in s.infos:
            s.infos[(index, master)] = _info(ctx, fd, mine, index, master)
    finally:
        os.close(mine)


def _index_of(fd: Fd) -> int:
    mine = getfd(fd.pid, fd.num)
    try:
        return _ioctl_int(mine, TIOCGPTN)
    finally:
        os.close(mine)


def _info(ctx: DumpContext, fd: Fd, mine: int, index: int, master: bool) -> tty_pb2.tty_info_entry:
    s = ctx.files.state(PtyDump)
    i = tty_pb2.tty_info_entry(id=len(s.infos) + 1, type=tty_pb2.PTY, sid=0, pgrp=0, rdev=fd.stat.st_rdev)
    i.pty.index = index
    if not master and index in s.ctty:
        virt = ctx.images.virtual_pids  # the images name them as the tree sees them
        sid, pgrp = s.ctty[index]
        i.sid, i.pgrp = virt.get(sid, sid), virt.get(pgrp, pgrp)
    iflag, oflag, cflag, lflag, line, cc, ispeed, ospeed = TERMIOS2.unpack(
        fcntl.ioctl(mine, TCGETS2, bytes(TERMIOS2.size)))
    tm = i.termios
    tm.c_iflag, tm.c_oflag, tm.c_cflag, tm.c_lflag, tm.c_line = iflag, oflag, cflag, lflag, line
    tm.c_ispeed, tm.c_ospeed = ispeed, ospeed
    tm.c_cc.extend(cc)
    if line:
        raise UnsupportedError(f"{fd.where}: line discipline {line} (only N_TTY is supported)")
    lk = TERMIOS.unpack(fcntl.ioctl(mine, TIOCGLCKTRMIOS, bytes(TERMIOS.size)))
    if any(lk[:5]) or any(lk[5]):
        tl = i.termios_locked
        tl.c_iflag, tl.c_oflag, tl.c_cflag, tl.c_lflag, tl.c_line = lk[:5]
        tl.c_ispeed = tl.c_ospeed = 0
        tl.c_cc.extend(lk[5])
    w = i.winsize
    w.ws_row, w.ws_col, w.ws_xpixel, w.ws_ypixel = WINSIZE.unpack(
        fcntl.ioctl(mine, TIOCGWINSZ, bytes(WINSIZE.size)))
    i.exclusive = bool(_ioctl_int(mine, TIOCGEXCL))
    if index not in s.masters:  # an orphan slave: what only the master shows is not known (criu: the same)
        i.locked = i.packet_mode = False
        i.uid, i.gid = fd.stat.st_uid, fd.stat.st_gid
        i.stasis.mode = st.S_IMODE(fd.stat.st_mode)
        return i
    mpid, mfd = s.masters[index]
    m = getfd(mpid, mfd) if not master else mine
    try:
        i.locked = bool(_ioctl_int(m, TIOCGPTLCK))
        i.packet_mode = bool(_ioctl_int(m, TIOCGPKT))
        if master:
            p = select.poll()
            p.register(m, select.POLLIN | select.POLLPRI)
            ev = sum(e for _, e in p.poll(0))
            i.stasis.slave_closed = bool(ev & select.POLLHUP)
            if ev & (select.POLLIN | select.POLLPRI) and not ev & select.POLLHUP:
                raise UnsupportedError(f"{fd.where}: the master is readable with no data queued: a "
                                       "packet-mode status byte is pending (not supported)")
    finally:
        if m != mine:
            os.close(m)
    node = fd.stat if not master else os.stat(f"/proc/{mpid}/root/dev/pts/{index}")
    i.uid, i.gid = node.st_uid, node.st_gid
    i.stasis.mode = st.S_IMODE(node.st_mode)
    return i


def dump(ctx: DumpContext, t: Task, fd: Fd, e: fdinfo_pb2.file_entry) -> None:
    s = ctx.files.state(PtyDump)
    master = fd.stat.st_rdev == PTMX_RDEV
    index = _index_of(fd) if master else _slave_index(fd.stat.st_rdev)
    info = s.infos.get((index, master))
    if info is None:  # the caller's terminal (--shell-job): its path
        info = tty_pb2.tty_info_entry(id=len(s.infos) + 1, type=tty_pb2.EXT_TTY, locked=False,
                                      exclusive=False, packet_mode=False, sid=0, pgrp=0,
                                      rdev=fd.stat.st_rdev)
        info.pty.index = index
        s.infos[(index, master)] = info
    e.tty.tty_info_id = info.id
    if info.type == tty_pb2.EXT_TTY:
        e.tty.regf_id = ctx.files.by_path(fd.target, fd.info.flags & ~O_CLOEXEC)


def write_images(ctx: DumpContext) -> None:
    s = ctx.files.state(PtyDump)
    if s.infos:
        ctx.images.write("tty-info", sorted(s.infos.values(), key=lambda i: i.id))


# -- restore ---------------------------------------------------------------------------------------

def load_images(ctx: RestoreContext) -> None:
    s = ctx.files.state(PtyRestore)
    s.infos = {i.id: i for i in ctx.images.read("tty-info", missing_ok=True)}
    for e in ctx.files.entries:
        if e.type != fdinfo_pb2.TTY:
            continue
        i = s.infos.get(e.tty.tty_info_id)
        if i is None:
            raise RestoreError(f"files.img: tty file {e.id} names tty info {e.tty.tty_info_id}, which "
                               "tty-info.img does not have")
        if i.type != tty_pb2.PTY:
            continue
        if i.rdev == PTMX_RDEV:
            s.master_flags[i.pty.index] = e.tty.flags
        else:
            s.has_slaves.add(i.pty.index)
    for e in ctx.files.entries:
        i = s.infos.get(e.tty.tty_info_id) if e.type == fdinfo_pb2.TTY else None
        if i is not None and i.type == tty_pb2.PTY and i.rdev != PTMX_RDEV and i.sid:
            host = {v: h for h, v in ctx.images.virtual_pids.items()}  # the engine's pids for the tree's
            s.ctty.setdefault(host.get(i.sid, i.sid), (e.id, host.get(i.pgrp, i.pgrp)))
    s.orphans = s.has_slaves - s.master_flags.keys()
    if s.orphans and ctx.opts.orphan_pts_master is None:
        index = min(s.orphans)
        raise RestoreError(f"tty-info.img: the pty slave /dev/pts/{index} has no master in the images (it "
                           "was outside the tree: a container's console); criu's orphan_pts_master (RPC) "
                           "restores it with a new master handed to the caller")


def _set_int(fd: int, req: int, val: int) -> None:
    fcntl.ioctl(fd, req, INT.pack(val))


def early_node(ctx: RestoreContext, pts: str, index: int) -> None:
    """/dev/pts/N is bound elsewhere (runc binds the console's slave on /dev/console): the mount comes before
    the files, so pair N is made now, in the new devpts at `pts` (as the engine reaches it). A pair the
    images do not have is made bare, for its node, and closed at the end of the restore."""
    s = ctx.files.state(PtyRestore)
    if index in s.masters:
        return
    if index in s.master_flags or index in s.orphans:
        _master(ctx, index, pts)
        return
    s.masters[index] = _open_index(f"{pts}/ptmx", index, O_RDWR)
    log.info("pty %d: made for the bind mount of its slave node (no fd of the tree holds it)", index)


def _open_index(ptmx: str, index: int, flags: int) -> int:
    """ptmx opened until the kernel gives that index."""
    spare: list[int] = []
    # the kernel frees an index when the last reference to its tty goes, in a work queue (release_one_tty):
    # a pair a failed restore just closed may hold its index for a moment
    deadline = time.monotonic() + 2.0
    try:
        while True:
            try:
                fd = os.open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC | (flags & O_NONBLOCK))
            except OSError as exc:
                raise RestoreError(f"pty {index}: cannot open {ptmx}: {exc.strerror}") from exc
            got = _ioctl_int(fd, TIOCGPTN)
            if got == index:
                return fd
            spare.append(fd)
            if got > index:
                if time.monotonic() > deadline:
                    raise RestoreError(f"pty {index}: /dev/pts/{index} is in use (the kernel gave {got})")
                for x in spare:
                    os.close(x)
                spare.clear()
                time.sleep(0.02)
    finally:
        for x in spare:
            os.close(x)


def _master(ctx: RestoreContext, index: int, pts: str = "") -> int:
    """A new pair with index `index` (in the tree's /dev/pts, or the devpts at `pts` as the engine reaches
    it), its state set."""
    s = ctx.files.state(PtyRestore)
    if index in s.masters:
        return s.masters[index]
    orphan = index in s.orphans
    flags = s.master_flags.get(index, O_RDWR)
    fd = _open_index(f"{pts}/ptmx" if pts else taskroot.task_path(PTMX), index, flags)
    s.masters[index] = fd
    info = _info_of(s, index, not orphan)
    if orphan:  # the slave's state for the pair; its exclusive mode is the slave's (set when it is opened)
        info = tty_pb2.tty_info_entry.FromString(info.SerializeToString())
        info.exclusive = False
    try:
        _apply_pair(fd, info, pts or taskroot.task_path("/dev/pts"))
        if info.stasis.slave_closed and index not in s.has_slaves:
            os.close(_open_slave(fd, index, O_RDWR, info.locked))  # its last close marks the master's side
    except OSError as exc:
        raise RestoreError(f"pty {index}: cannot set its state: {exc.strerror}") from exc
    return fd


def _info_of(s: PtyRestore, index: int, master: bool) -> tty_pb2.tty_info_entry:
    return next(i for i in s.infos.values() if i.type == tty_pb2.PTY and i.pty.index == index
                and (i.rdev == PTMX_RDEV) == master)


def _apply_pair(fd: int, i: tty_pb2.tty_info_entry, pts: str) -> None:
    tm = i.termios
    fcntl.ioctl(fd, TCSETS2, TERMIOS2.pack(tm.c_iflag, tm.c_oflag, tm.c_cflag, tm.c_lflag, tm.c_line,
                                           bytes(tm.c_cc), tm.c_ispeed, tm.c_ospeed))
    if i.HasField("termios_locked"):  # after termios: it constrains later changes
        tl = i.termios_locked
        lk = TERMIOS.pack(tl.c_iflag, tl.c_oflag, tl.c_cflag, tl.c_lflag, tl.c_line, bytes(tl.c_cc))
        fcntl.ioctl(fd, TIOCSLCKTRMIOS, lk)
    w = i.winsize
    fcntl.ioctl(fd, TIOCSWINSZ, WINSIZE.pack(w.ws_row, w.ws_col, w.ws_xpixel, w.ws_ypixel))
    _set_int(fd, TIOCPKT, int(i.packet_mode))
    _set_int(fd, TIOCSPTLCK, int(i.locked))
    node = f"{pts}/{i.pty.index}"
    if i.HasField("uid"):
        os.chown(node, i.uid, i.gid)
    if i.stasis.HasField("mode"):
        os.chmod(node, i.stasis.mode)
    if i.exclusive:
        fcntl.ioctl(fd, TIOCEXCL)


def _open_slave(master: int, index: int, flags: int, locked: bool) -> int:
    """A new description of the slave. open() adds O_LARGEFILE (a 64-bit kernel does for every open()), so a
    slave without it, as glibc's openpty() (forkpty(): tmux, screen, ssh) opens them through TIOCGPTPEER,
    is opened again through TIOCGPTPEER: its flags (F_GETFL, fdinfo) stay what they were."""
    if locked:
        _set_int(master, TIOCSPTLCK, 0)
    try:
        how = flags & (O_ACCMODE | O_NONBLOCK) | O_NOCTTY
        if not flags & O_LARGEFILE:
            # O_CLOEXEC given to TIOCGPTPEER stays in the description's flags (open() takes it out of them)
            fd = fcntl.ioctl(master, TIOCGPTPEER, how)
            os.set_inheritable(fd, False)
            return fd
        return os.open(taskroot.task_path(f"/dev/pts/{index}"), how | O_CLOEXEC)
    finally:
        if locked:
            _set_int(master, TIOCSPTLCK, 1)


def open_(ctx: RestoreContext, e: fdinfo_pb2.file_entry) -> int:
    s = ctx.files.state(PtyRestore)
    i = s.infos[e.tty.tty_info_id]
    if i.type != tty_pb2.PTY:
        if not e.tty.regf_id:
            raise RestoreError(f"tty file {e.id}: a terminal outside the tree without a path")
        return paths.open_reg(ctx.files.get(e.tty.regf_id).reg)
    index = i.pty.index
    master = _master(ctx, index)
    if i.rdev == PTMX_RDEV:
        if index in s.handed:
            raise RestoreError(f"pty {index}: two descriptions of one master in the images")
        s.handed.add(index)
        return master
    try:
        fd = _open_slave(master, index, e.tty.flags, _info_of(s, index, index not in s.orphans).locked)
        s.extra.append(fd)
        if i.exclusive:
            fcntl.ioctl(fd, TIOCEXCL)
    except OSError as exc:
        raise RestoreError(f"pty {index}: cannot open /dev/pts/{index}: {exc.strerror}") from exc
    if index in s.orphans and index not in s.handed:  # its new master goes to the caller, once
        s.handed.add(index)
        assert ctx.opts.orphan_pts_master is not None  # load_images refused it otherwise
        ctx.opts.orphan_pts_master(master)
    return fd


def _in_task(ctx: RestoreContext, t: Task, fid: int) -> int:
    """The slave description as an fd of the task (for the ioctls that act on the caller's session)."""
    assert t.files is not None
    fd = ctx.fd_broker.hand_out(t, ctx.fd_broker.fd_for(fid))
    if fd < 0:
        raise RestoreError(f"pid {t.pid}: pidfd_getfd of its controlling terminal: {os.strerror(-fd)}")
    return fd


def restore_ctty(ctx: RestoreContext, t: Task) -> None:
    s = ctx.files.state(PtyRestore)
    if t.pid not in s.ctty or t.sid != t.pid:
        return
    fd = _in_task(ctx, t, s.ctty[t.pid][0])
    t.injector.call(nr.ioctl, fd, TIOCSCTTY, 0, what=f"ioctl({fd}, TIOCSCTTY)")
    t.injector.call(nr.close, fd, what="close")


def restore_fg(ctx: RestoreContext, t: Task) -> None:
    s = ctx.files.state(PtyRestore)
    if t.pid not in s.ctty or t.sid != t.pid or s.ctty[t.pid][1] in (0, t.pgid):
        return
    fd = _in_task(ctx, t, s.ctty[t.pid][0])
    inj = t.injector
    pgrp = ctx.images.virtual_pids.get(s.ctty[t.pid][1], s.ctty[t.pid][1])  # as the task sees it
    inj.put(INT.pack(pgrp))
    inj.call(nr.ioctl, fd, TIOCSPGRP, inj.scratch, what=f"ioctl({fd}, TIOCSPGRP, {pgrp})")
    inj.call(nr.close, fd, what="close")


OBJECT = KernelObject(
    "pty",
    stages=(
        Stage("ctty", Phase.MEMORY, restore_ctty,
              doc="the session leader takes its terminal before it forks: its children inherit it"),
        Stage("ctty-pgrp", Phase.PROCESS, restore_fg, after=("files",),
              doc="the foreground group, once every group exists"),
    ),
)

KIND = FdKind("pty", fdinfo_pb2.TTY, "tty", matches, dump, open_, check=check, write_images=write_images,
              load_images=load_images)
