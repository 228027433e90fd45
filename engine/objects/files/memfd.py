"""memfd files: every description (flags, offset), the inode once (name, content with its holes, size,
mode, owner, seals), and mappings of a memfd, which are the same object as its fds.

Images as CRIU's: a MEMFD file_entry (memfd_file_entry) per description, memfd.img with one
memfd_inode_entry per inode, its data in pagemap-shmem-<shmid>.img + pages-<id>.img (data extents
only: SEEK_DATA/SEEK_HOLE). A mapping of a memfd is a VMA with VMA_AREA_MEMFD whose shmid is a MEMFD
file entry (mm.py asks this module through `is_memfd_vma` and `dump_vma`, and maps the broker's fd).

At restore the engine makes each inode once (memfd_create with the exec mode it had, the content copied
in through the fd, the size, owner and mode set, the seals added last) and opens every description
through /proc/self/fd of it, so descriptions stay separate and all reach one inode.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat as st
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine import proc
from engine.abi.consts import (
    F_ADD_SEALS,
    F_GET_SEALS,
    F_SEAL_EXEC,
    F_SEAL_FUTURE_WRITE,
    F_SETFL,
    MFD_ALLOW_SEALING,
    MFD_CLOEXEC,
    MFD_EXEC,
    MFD_NOEXEC_SEAL,
    O_ACCMODE,
    O_APPEND,
    O_CLOEXEC,
    O_NONBLOCK,
    O_PATH,
    O_RDONLY,
)
from engine.compel.pidfd import getfd
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import fdinfo_pb2, memfd_pb2, pagemap_pb2
from engine.images.reader import open_image
from engine.native import PAGE_SIZE
from engine.objects.files.kind import Fd, FdKind
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

PREFIX, DELETED = "/memfd:", " (deleted)"
PE_PRESENT = 4  # pagemap_entry flags, as mm.py writes them
MEMFD_FLAGS = O_NONBLOCK | O_APPEND  # what F_SETFL sets again on a reopened description


@record
class MemfdDump:
    inodes: dict[int, tuple[memfd_pb2.memfd_inode_entry, int]] = field(default_factory=dict)  # ino -> (, fd)
    maps: dict[tuple[int, int], int] = field(default_factory=dict)  # (ino, open mode) -> file id of mappings


@record
class MemfdRestore:
    inodes: dict[int, memfd_pb2.memfd_inode_entry] = field(default_factory=dict)
    keepers: dict[int, int] = field(default_factory=dict)  # inode_id -> the engine's fd of the new memfd
    extra: list[int] = field(default_factory=list)  # descriptions opened for the tree

    def owned_fds(self) -> list[int]:
        fds = list(self.keepers.values()) + self.extra
        self.keepers.clear()
        self.extra.clear()
        return fds


def _round_up(n: int) -> int:
    return (n + PAGE_SIZE - 1) // PAGE_SIZE * PAGE_SIZE


def _is_memfd_path(path: str) -> bool:
    return path.startswith(PREFIX) and path.endswith(DELETED)


def matches(fd: Fd) -> bool:
    return _is_memfd_path(fd.target) and st.S_ISREG(fd.stat.st_mode) and not fd.info.flags & O_PATH


def _refuse(s: os.stat_result, where: str) -> None:
    if s.st_blksize > PAGE_SIZE:
        raise UnsupportedError(f"{where}: hugetlb memfds (MFD_HUGETLB) are not supported yet")
    if s.st_ino >= 1 << 32:
        raise UnsupportedError(f"{where}: a memfd whose inode number does not fit the image")


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    _refuse(fd.stat, fd.where)


def _register(ctx: DumpContext, path: str, s: os.stat_result, open_: Callable[[], int]) -> None:
    inodes = ctx.files.state(MemfdDump).inodes
    if s.st_ino in inodes:
        return
    fd = open_()
    try:
        seals = fcntl.fcntl(fd, F_GET_SEALS)
        now = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    m = memfd_pb2.memfd_inode_entry(name=path[len(PREFIX):-len(DELETED)], uid=now.st_uid, gid=now.st_gid,
                                    size=now.st_size, shmid=now.st_ino, seals=seals, inode_id=now.st_ino)
    m.stasis.mode = now.st_mode & 0o7777
    inodes[s.st_ino] = (m, fd)


def dump(ctx: DumpContext, t: Task, fd: Fd, e: fdinfo_pb2.file_entry) -> None:
    _register(ctx, fd.target, fd.stat, lambda: getfd(fd.pid, fd.num))
    e.memfd.pos, e.memfd.inode_id = fd.info.pos, fd.stat.st_ino


# -- mappings (asked by mm.py) ---------------------------------------------------------------------

def _map_file(pid: int, v: proc.Vma) -> str:
    return f"/proc/{pid}/map_files/{v.start:x}-{v.end:x}"


def is_memfd_vma(v: proc.Vma, pid: int) -> bool:
    """A mapping of a memfd (refused here if it cannot come back)."""
    if not (v.is_file and _is_memfd_path(v.path)):
        return False
    where = f"pid {pid}: memfd mapping {v.path} at {v.start:#x}-{v.end:#x}"
    try:
        s = os.stat(_map_file(pid, v))
        fd = os.open(_map_file(pid, v), O_RDONLY | O_CLOEXEC)
    except OSError as exc:
        raise UnsupportedError(f"{where}: cannot open it: {exc.strerror}") from exc
    try:
        seals = fcntl.fcntl(fd, F_GET_SEALS)
    finally:
        os.close(fd)
    if not st.S_ISREG(s.st_mode):
        return False
    _refuse(s, where)
    if v.shared and "w" in v.perms and seals & F_SEAL_FUTURE_WRITE:
        raise UnsupportedError(f"{where}: a writable shared mapping of a memfd sealed with "
                               "F_SEAL_FUTURE_WRITE cannot be made again (the kernel refuses it once the "
                               "seal is set)")
    return True


def dump_vma(ctx: DumpContext, t: Task, v: proc.Vma, fdflags: int) -> int:
    """The id of a MEMFD file entry the mapping maps (one per inode and open mode)."""
    path = _map_file(t.pid, v)
    s = os.stat(path)
    _register(ctx, v.path, s, lambda: os.open(path, O_RDONLY | O_CLOEXEC))
    maps = ctx.files.state(MemfdDump).maps
    key = (s.st_ino, fdflags)
    if key not in maps:
        e = ctx.files.new(fdinfo_pb2.MEMFD)
        m = e.memfd
        m.id, m.flags, m.pos, m.inode_id = e.id, fdflags, 0, s.st_ino
        m.fown.uid = m.fown.euid = m.fown.signum = m.fown.pid_type = m.fown.pid = 0
        maps[key] = e.id
    return maps[key]


# -- images ----------------------------------------------------------------------------------------

def _extents(fd: int, size: int) -> list[tuple[int, int]]:
    """Page-aligned data extents of the file up to its size (holes left out)."""
    out: list[tuple[int, int]] = []
    pos, end = 0, _round_up(size)
    while pos < size:
        try:
            data = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                break
            raise
        if data >= size:
            break
        hole = min(_round_up(os.lseek(fd, data, os.SEEK_HOLE)), end)
        data -= data % PAGE_SIZE
        out.append((data, hole))
        pos = hole
    return out


def _write_content(ctx: DumpContext, m: memfd_pb2.memfd_inode_entry, fd: int) -> None:
    # fd may be the tree's own open file (pidfd_getfd): SEEK_DATA/SEEK_HOLE move its offset, put back
    pos = os.lseek(fd, 0, os.SEEK_CUR)
    try:
        ranges = _extents(fd, m.size)
    finally:
        os.lseek(fd, pos, os.SEEK_SET)
    pages_id = ctx.mm.new_pages_id()
    entries = [pagemap_pb2.pagemap_entry(vaddr=s, compat_nr_pages=(e - s) // PAGE_SIZE, flags=PE_PRESENT,
                                         nr_pages=(e - s) // PAGE_SIZE) for s, e in ranges]
    ctx.images.write("pagemap-shmem", [pagemap_pb2.pagemap_head(pages_id=pages_id), *entries], shmid=m.shmid)
    out = os.open(ctx.images.path("pages", pages_id=pages_id),
                  os.O_WRONLY | os.O_CREAT | os.O_TRUNC | O_CLOEXEC, 0o600)
    try:
        total = 0
        for s, e in ranges:
            os.lseek(out, total, os.SEEK_SET)
            off = s
            while off < e:
                n = os.sendfile(out, fd, off, e - off)
                if n <= 0:
                    break  # the end of the file: the rest of the last page is zeros
                off += n
            total += e - s
        os.ftruncate(out, total)
    finally:
        os.close(out)


def write_images(ctx: DumpContext) -> None:
    inodes = ctx.files.state(MemfdDump).inodes
    try:
        for _, (m, fd) in sorted(inodes.items()):
            _write_content(ctx, m, fd)
        if inodes:
            ctx.images.write("memfd", [m for _, (m, _) in sorted(inodes.items())])
    finally:
        for _, fd in inodes.values():
            os.close(fd)
        inodes.clear()


def load_images(ctx: RestoreContext) -> None:
    st_ = ctx.files.state(MemfdRestore)
    st_.inodes = {m.inode_id: m for m in ctx.images.read("memfd", missing_ok=True)}


# -- restore ---------------------------------------------------------------------------------------

def _fill(ctx: RestoreContext, m: memfd_pb2.memfd_inode_entry, fd: int) -> None:
    if not ctx.images.exists("pagemap-shmem", shmid=m.shmid):
        return
    head, *entries = ctx.images.read("pagemap-shmem", shmid=m.shmid)
    pages = open_image(ctx.images.path("pages", pages_id=head.pages_id))
    try:
        src = 0
        for e in entries:
            n = (e.nr_pages if e.HasField("nr_pages") else e.compat_nr_pages) * PAGE_SIZE
            os.lseek(fd, e.vaddr, os.SEEK_SET)
            done = 0
            while done < n:
                k = os.sendfile(fd, pages, src + done, n - done)
                if k <= 0:
                    raise RestoreError(f"memfd {m.name}: the pages image ends before its pagemap does")
                done += k
            src += n
    finally:
        os.close(pages)


def _keeper(ctx: RestoreContext, inode_id: int) -> int:
    st_ = ctx.files.state(MemfdRestore)
    if inode_id in st_.keepers:
        return st_.keepers[inode_id]
    m = st_.inodes.get(inode_id)
    if m is None:
        raise RestoreError(f"memfd.img has no inode {inode_id}")
    what = f"memfd {m.name}"
    base = MFD_CLOEXEC | MFD_ALLOW_SEALING
    try:
        try:
            fd = os.memfd_create(m.name, base | (MFD_NOEXEC_SEAL if m.seals & F_SEAL_EXEC else MFD_EXEC))
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            fd = os.memfd_create(m.name, base)  # before 6.3: no exec modes
    except OSError as exc:
        raise RestoreError(f"{what}: memfd_create: {exc.strerror}") from exc
    st_.keepers[inode_id] = fd
    try:
        _fill(ctx, m, fd)
        os.ftruncate(fd, m.size)
        os.fchown(fd, m.uid, m.gid)
        if m.HasField("stasis") and os.fstat(fd).st_mode & 0o7777 != m.stasis.mode:
            os.fchmod(fd, m.stasis.mode)
        add = m.seals & ~fcntl.fcntl(fd, F_GET_SEALS)
        if add:
            fcntl.fcntl(fd, F_ADD_SEALS, add)  # last: the content is in, F_SEAL_SEAL goes with the others
    except OSError as exc:
        raise RestoreError(f"{what}: cannot restore its content, size {m.size}, mode, owner or seals "
                           f"{m.seals:#x}: {exc.strerror}") from exc
    return fd


def open_(ctx: RestoreContext, e: fdinfo_pb2.file_entry) -> int:
    keeper = _keeper(ctx, e.memfd.inode_id)
    flags = e.memfd.flags
    try:
        fd = os.open(f"/proc/self/fd/{keeper}", (flags & O_ACCMODE) | O_CLOEXEC)
    except OSError as exc:
        raise RestoreError(f"memfd {e.memfd.inode_id}: cannot open a description: {exc.strerror}") from exc
    ctx.files.state(MemfdRestore).extra.append(fd)
    fcntl.fcntl(fd, F_SETFL, flags & MEMFD_FLAGS)
    os.lseek(fd, e.memfd.pos, os.SEEK_SET)
    return fd


KIND = FdKind("memfd", fdinfo_pb2.MEMFD, "memfd", matches, dump, open_, check=check,
              write_images=write_images, load_images=load_images)
