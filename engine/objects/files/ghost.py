"""Regular files whose name was gone at dump: "ghost" files (no link left: saved with their content)
and files still linked elsewhere (reopened through that other link).

Images as CRIU's: the file's reg_file_entry keeps its old name; remap-fpath.img says which entry is
remapped to what (GHOST: ghost-file-<id>.img holds the inode -- mode, owner, times, size -- and its
data extents as chunks, holes left out with SEEK_DATA/SEEK_HOLE; LINKED: the id of a REG entry that
names another link). A ghost larger than --ghost-limit (criu's option, 1 MiB by default; the bytes
of data count, not the holes) is refused.

At restore the engine makes the file once at its old name (its directory made again for that moment
if it was removed too; if the name is taken, a name of its own in the same directory or the nearest
existing parent), fills it, sets size, owner, mode and times, opens
it and unlinks the name; a linked file gets a second link at its old name for that open. Every
description is then opened through /proc/self/fd of that first fd, so they all reach one inode and
show the old name as "(deleted)".
"""

from __future__ import annotations

import errno
import os
import stat as st
from typing import TYPE_CHECKING

from engine import proc
from engine.abi.consts import O_ASYNC, O_CLOEXEC, O_CREAT, O_EXCL, O_NOCTTY, O_PATH, O_RDWR, O_TRUNC
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import fdinfo_pb2, ghost_file_pb2, regfile_pb2
from engine.objects import taskroot, userns
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext

DELETED = " (deleted)"
DEFAULT_LIMIT = 1 << 20
READ_PIECE = 1 << 20


@record
class GhostDump:
    remaps: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)  # (dev, ino) -> (type, id)
    entries: list[ghost_file_pb2.remap_file_path_entry] = field(default_factory=list)
    ghosts: dict[int, tuple[ghost_file_pb2.ghost_file_entry, list[tuple[int, bytes]]]] = field(
        default_factory=dict)


@record
class GhostMaps:
    """Dump: the REG entries that mappings of deleted files map, one per (dev, ino, open mode)."""

    ids: dict[tuple[int, int, int], int] = field(default_factory=dict)


@record
class GhostRestore:
    remaps: dict[int, ghost_file_pb2.remap_file_path_entry] = field(default_factory=dict)  # by orig_id
    # (type, remap id, name) -> engine fd: a deleted file had a name per hard link its fds were opened by
    keepers: dict[tuple[int, int, str], int] = field(default_factory=dict)
    extra: list[int] = field(default_factory=list)

    def owned_fds(self) -> list[int]:
        fds = list(self.keepers.values()) + self.extra
        self.keepers.clear()
        self.extra.clear()
        return fds


def is_deleted(path: str) -> bool:
    return path.endswith(DELETED)


def parse_limit(text: str) -> int:
    """criu's --ghost-limit: a size in bytes, with an optional K, M or G suffix."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    t = text.strip().upper()
    mult = units.get(t[-1:], 1)
    try:
        return int(t[:-1] if t[-1:] in units else t) * mult
    except ValueError:
        raise ValueError(f"--ghost-limit: not a size: {text!r}") from None


def _other_link(pid: int, path: str, s: os.stat_result) -> str | None:
    """Another name of the inode, looked for in the directory the deleted name was in."""
    d = os.path.dirname(path)
    root = f"/proc/{pid}/root"
    try:
        with os.scandir(root + d) as it:
            for ent in it:
                if ent.inode() == s.st_ino:
                    now = os.stat(ent.path, follow_symlinks=False)
                    if (now.st_dev, now.st_ino) == (s.st_dev, s.st_ino):
                        return os.path.join(d, ent.name)
    except OSError:
        return None
    return None


def check(ctx: DumpContext, pid: int, path: str, s: os.stat_result, what: str) -> None:
    """Refuse what cannot come back: a removed directory, other unlinked kinds, a ghost over the limit."""
    if st.S_ISDIR(s.st_mode):
        raise UnsupportedError(f"{what}: a removed directory held open: an unlinked directory cannot be "
                               "made again, so it is not supported")
    if not st.S_ISREG(s.st_mode):
        raise UnsupportedError(f"{what}: an unlinked file of this type is not supported")
    if s.st_nlink > 0:
        if _other_link(pid, path.removesuffix(DELETED), s) is None:
            raise UnsupportedError(f"{what}: the file is unlinked here but still has {s.st_nlink} link(s) "
                                   "elsewhere, outside its directory: not supported")
        return
    data = min(s.st_size, s.st_blocks * 512)
    if data > ctx.opts.ghost_limit:
        raise UnsupportedError(f"{what}: a deleted file with {data} bytes of data is over the ghost limit of "
                               f"{ctx.opts.ghost_limit} bytes (raise it with --ghost-limit)")


def dump(ctx: DumpContext, pid: int, src: str, reg: regfile_pb2.reg_file_entry, s: os.stat_result) -> None:
    """Remap entry `reg` (whose name is already the old one); src opens the file (/proc/PID/fd/N)."""
    gs = ctx.files.state(GhostDump)
    key = (s.st_dev, s.st_ino)
    if key not in gs.remaps:
        if s.st_nlink > 0:
            other = _other_link(pid, reg.name, s)
            if other is None:
                raise UnsupportedError(f"pid {pid} {reg.name}: its other link is gone")
            e = ctx.files.new(fdinfo_pb2.REG)
            e.reg.id, e.reg.flags, e.reg.pos, e.reg.name, e.reg.mode = e.id, 0, 0, other, s.st_mode
            e.reg.fown.uid = e.reg.fown.euid = e.reg.fown.signum = e.reg.fown.pid_type = e.reg.fown.pid = 0
            gs.remaps[key] = (ghost_file_pb2.LINKED, e.id)
        else:
            gid = len(gs.ghosts) + 1
            gs.ghosts[gid] = _ghost(src, s)
            gs.remaps[key] = (ghost_file_pb2.GHOST, gid)
    typ, rid = gs.remaps[key]
    gs.entries.append(ghost_file_pb2.remap_file_path_entry(orig_id=reg.id, remap_id=rid, remap_type=typ))


def _ghost(src: str, s: os.stat_result) -> tuple[ghost_file_pb2.ghost_file_entry, list[tuple[int, bytes]]]:
    g = ghost_file_pb2.ghost_file_entry(uid=s.st_uid, gid=s.st_gid, mode=s.st_mode, ino=s.st_ino,
                                        dev=(os.major(s.st_dev) << 20) | os.minor(s.st_dev), chunks=True,
                                        size=s.st_size)
    g.atim.tv_sec, g.atim.tv_usec = s.st_atime_ns // 10**9, s.st_atime_ns % 10**9 // 1000
    g.mtim.tv_sec, g.mtim.tv_usec = s.st_mtime_ns // 10**9, s.st_mtime_ns % 10**9 // 1000
    g.stasis.atim_nsec, g.stasis.mtim_nsec = s.st_atime_ns % 10**9, s.st_mtime_ns % 10**9
    chunks: list[tuple[int, bytes]] = []
    try:
        fd = os.open(src, os.O_RDONLY | O_CLOEXEC | os.O_NOATIME)  # reading must not move its atime
    except PermissionError:
        fd = os.open(src, os.O_RDONLY | O_CLOEXEC)
    try:
        pos = 0
        while pos < s.st_size:
            try:
                data = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError as exc:
                if exc.errno == errno.ENXIO:
                    break
                raise
            hole = min(os.lseek(fd, data, os.SEEK_HOLE), s.st_size)
            for off in range(data, hole, READ_PIECE):
                buf = os.pread(fd, min(READ_PIECE, hole - off), off)
                if chunks and chunks[-1][0] + len(chunks[-1][1]) == off:
                    chunks[-1] = (chunks[-1][0], chunks[-1][1] + buf)
                else:
                    chunks.append((off, buf))
            pos = hole
    finally:
        os.close(fd)
    return g, chunks


# -- mappings (asked by mm.py) ---------------------------------------------------------------------

def _mounted_devs(pid: int) -> set[str]:
    return {f"{m.major}:{m.minor}" for m in proc.mounts(pid)}


def _map_file(pid: int, v: proc.Vma) -> str:
    return f"/proc/{pid}/map_files/{v.start:x}-{v.end:x}"


def is_deleted_vma(v: proc.Vma, pid: int) -> bool:
    """A mapping of a deleted file of a mounted file system (not SysV shm or other objects of the
    kernel's internal mounts, which also show as "(deleted)")."""
    if not (v.is_file and v.path.startswith("/") and is_deleted(v.path)):
        return False
    maj, mnr = (int(x, 16) for x in v.dev.split(":"))
    return f"{maj}:{mnr}" in _mounted_devs(pid)


def check_vma(ctx: DumpContext, pid: int, v: proc.Vma) -> None:
    where = f"pid {pid}: mapping {v.path} at {v.start:#x}-{v.end:#x}"
    try:
        s = os.stat(_map_file(pid, v))
    except OSError as exc:
        raise UnsupportedError(f"{where}: cannot open it: {exc.strerror}") from exc
    check(ctx, pid, v.path, s, where)


def dump_vma(ctx: DumpContext, pid: int, v: proc.Vma, fdflags: int) -> int:
    """The id of the REG entry (remapped to its ghost or other link) the mapping maps."""
    path = _map_file(pid, v)
    s = os.stat(path)
    ids = ctx.files.state(GhostMaps).ids
    key = (s.st_dev, s.st_ino, fdflags)
    if key not in ids:
        e = ctx.files.new(fdinfo_pb2.REG)
        reg = e.reg
        reg.id, reg.flags, reg.pos, reg.mode = e.id, fdflags, 0, s.st_mode
        reg.name = v.path.removesuffix(DELETED)
        reg.fown.uid = reg.fown.euid = reg.fown.signum = reg.fown.pid_type = reg.fown.pid = 0
        dump(ctx, pid, path, reg, s)
        ids[key] = e.id
    return ids[key]


def is_remapped(ctx: RestoreContext, fid: int) -> bool:
    return fid in ctx.files.state(GhostRestore).remaps


def write_images(ctx: DumpContext) -> None:
    gs = ctx.files.state(GhostDump)
    for gid, (g, chunks) in sorted(gs.ghosts.items()):
        msgs = [g] + [ghost_file_pb2.ghost_chunk_entry(len=len(b), off=off) for off, b in chunks]
        ctx.images.write("ghost-file", msgs, extras=[b""] + [b for _, b in chunks], id=gid)
    if gs.entries:
        ctx.images.write("remap-fpath", gs.entries)


def load_images(ctx: RestoreContext) -> None:
    gr = ctx.files.state(GhostRestore)
    gr.remaps = {e.orig_id: e for e in ctx.images.read("remap-fpath", missing_ok=True)}


def free_name(name: str, tag: str) -> tuple[str, list[str]]:
    """Where to make the file again: its old name if free (directories removed since are made again
    for the time it takes, so the fd shows the old name), else a name of ours in its directory or the
    nearest parent that exists. Also the directories made, to remove after. `name` is the task's path; the
    one returned the engine's (taskroot.task_path)."""
    name = taskroot.task_path(name)
    d = os.path.dirname(name) or "/"
    made: list[str] = []
    missing: list[str] = []
    while not os.path.isdir(d):
        missing.append(d)
        d = os.path.dirname(d)
    try:
        for m in reversed(missing):
            os.mkdir(m, 0o700)
            made.append(m)
    except OSError:
        remove_dirs(made)
        made = []
    if made or not missing:
        if not os.path.lexists(name):
            return name, made
        d = os.path.dirname(name) or "/"
    return os.path.join(d, f".stasis-{tag}-{os.getpid()}"), made


def take_name(name: str, tag: str) -> tuple[str, list[str], str]:
    """free_name(), but the old name also when another file has it now (it was reused since): that file is
    moved aside until give_back(), so the fd and the mappings show the old name. The third value is where
    it was moved ("" if not)."""
    path, made = free_name(name, tag)
    engine_name = taskroot.task_path(name)
    if path == engine_name or made or not os.path.isdir(os.path.dirname(engine_name) or "/"):
        return path, made, ""
    aside = f"{engine_name}.stasis-aside-{os.getpid()}"
    try:
        with userns.creating():  # a rename makes a name: in the tree's user namespace, as its root
            os.rename(engine_name, aside)
    except OSError:
        return path, made, ""
    return engine_name, made, aside


def give_back(path: str, aside: str) -> None:
    if aside:
        with userns.creating():
            os.rename(aside, path)


def remove_dirs(made: list[str]) -> None:
    for m in reversed(made):
        try:
            os.rmdir(m)
        except OSError:
            pass


def _make_ghost(ctx: RestoreContext, name: str, gid: int, others: list[str]) -> dict[str, int]:
    """The deleted file made again under its name, with its content; also linked under the other names its
    fds had (hard links deleted too), each opened (O_PATH) before its unlink so that an fd shows its own
    name. The engine's fds by name."""
    head, *chunks = ctx.images.read_entries("ghost-file", id=gid)
    g = head.message
    path, made, aside = take_name(name, f"ghost-{gid}")
    try:
        with userns.creating():
            fd = os.open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    except OSError as exc:
        give_back(path, aside)
        remove_dirs(made)
        raise RestoreError(f"deleted file {name}: cannot make it again at {path}: {exc.strerror}") from exc
    try:
        for c in chunks:
            data = bytes(c.extra or b"")
            if len(data) != c.message.len or os.pwrite(fd, data, c.message.off) != len(data):
                raise RestoreError(f"deleted file {name}: chunk at {c.message.off} of ghost {gid} is short")
        os.ftruncate(fd, g.size)
        os.fchown(fd, g.uid, g.gid)
        os.fchmod(fd, g.mode & 0o7777)  # after the owner: chown clears set-id bits
        ns = (g.stasis.atim_nsec, g.stasis.mtim_nsec) if g.HasField("stasis") else (
            g.atim.tv_usec * 1000, g.mtim.tv_usec * 1000)
        os.utime(fd, ns=(g.atim.tv_sec * 10**9 + ns[0], g.mtim.tv_sec * 10**9 + ns[1]))
    except OSError as exc:
        os.close(fd)
        os.unlink(path)
        give_back(path, aside)
        remove_dirs(made)
        raise RestoreError(f"deleted file {name}: cannot restore its content, owner, mode or times: "
                           f"{exc.strerror}") from exc
    except BaseException:
        os.close(fd)
        os.unlink(path)
        give_back(path, aside)
        remove_dirs(made)
        raise
    fds = {name: fd}
    try:
        for other in others:
            fds[other] = _open_link(path, other, f"ghost-{gid}")
    except BaseException:
        for f in fds.values():
            os.close(f)
        raise
    finally:
        os.unlink(path)
        give_back(path, aside)
        remove_dirs(made)
    return fds


def _linked(src: str, name: str, tag: str, what: str, as_tree_root: bool) -> int:
    """The file at src linked again at name's place, opened O_PATH, and the link removed again."""
    p, made, aside = take_name(name, tag)
    try:
        if as_tree_root:
            with userns.creating():
                os.link(src, p)
        else:
            os.link(src, p)
    except OSError as exc:
        give_back(p, aside)
        remove_dirs(made)
        raise RestoreError(f"deleted file {name}: cannot {what}: {exc.strerror}") from exc
    try:
        return os.open(p, O_PATH | O_CLOEXEC)
    except OSError as exc:
        raise RestoreError(f"deleted file {name}: cannot open it: {exc.strerror}") from exc
    finally:
        os.unlink(p)
        give_back(p, aside)
        remove_dirs(made)


def _open_link(path: str, name: str, tag: str) -> int:
    """Another name of the file at path, opened O_PATH, and removed again."""
    return _linked(path, name, f"{tag}-link", "make its other link again", True)


def _relink(name: str, other: str) -> int:
    return _linked(taskroot.task_path(other), name, "link", f"link it again from {other}", False)


def open_remapped(ctx: RestoreContext, reg: regfile_pb2.reg_file_entry) -> int | None:
    """An engine fd of the description, if its file was remapped at dump; else None."""
    gr = ctx.files.state(GhostRestore)
    r = gr.remaps.get(reg.id)
    if r is None:
        return None
    key = (r.remap_type, r.remap_id, reg.name)
    if key not in gr.keepers:
        if r.remap_type == ghost_file_pb2.GHOST:
            if any(k[:2] == key[:2] for k in gr.keepers):
                raise RestoreError(f"deleted file {reg.name}: ghost {r.remap_id} was made again under other "
                                   "names only")
            names = {ctx.files.path_of(e.orig_id) for e in gr.remaps.values()
                     if (e.remap_type, e.remap_id) == key[:2]} - {reg.name}
            for n, fd in _make_ghost(ctx, reg.name, r.remap_id, sorted(names)).items():
                gr.keepers[(*key[:2], n)] = fd
        elif r.remap_type == ghost_file_pb2.LINKED:
            gr.keepers[key] = _relink(reg.name, ctx.files.path_of(r.remap_id))
        else:
            raise RestoreError(f"remap-fpath.img: file {reg.id} has remap type {r.remap_type}, which this "
                               "engine cannot open")
    flags = reg.flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_ASYNC)
    try:
        fd = os.open(f"/proc/self/fd/{gr.keepers[key]}", flags | O_NOCTTY | O_CLOEXEC)
    except OSError as exc:
        raise RestoreError(f"deleted file {reg.name}: cannot open a description: {exc.strerror}") from exc
    gr.extra.append(fd)
    if reg.pos and not flags & O_PATH:
        os.lseek(fd, reg.pos, os.SEEK_SET)
    return fd
