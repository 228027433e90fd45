"""The mount tree of a tree with a mount namespace of its own (mountpoints-<id>.img, tmpfs-dev-*.tar.gz.img).

Dump reads /proc/ROOT/mountinfo and decides, for every mount, how restore makes it again:
* the root mount is the directory given with --root (as criu has it: checked at dump to be that file
  system, given again at restore);
* a mount named with --external mnt[MOUNTPOINT]:KEY is a bind of what restore's mnt[KEY]:PATH names;
* a mount of a file system the engine sees under --root too (the harness's binds of host directories in
  the root, the root tmpfs itself) is a bind of that path under the restore's --root (the path relative to
  the root is kept in the entry's Stasis extension); one the engine sees only outside --root must be named
  with --external;
* proc, sysfs, devpts (with its options) and mqueue are mounted fresh inside the new namespaces; a tmpfs
  nobody outside sees is mounted fresh with its content (a gzip'd pax tar that GNU tar extracts as criu's:
  extended attributes, holes as GNU sparse members, socket files marked for mknod, and each file's inode
  number, in whose order restore makes them so a fresh tmpfs numbers them as before; read from a detached
  clone of the mount, so what submounts cover is there too; an over-mounted or unbindable tmpfs is read in
  a private copy of the namespace where what covers it is unmounted);
* another mount of a superblock made fresh is a bind of the first one's directory (binds come after it).
Anything else is refused, naming the mount: other file systems nobody outside sees, over-mounted mounts
with propagation or bound from elsewhere, mounts whose root directory was removed, peer groups shared with
mounts outside, slaves of masters outside.
Per-mount flags (ro, nosuid, nodev, noexec, atime) and propagation (shared peer groups, slaves, unbindable)
come back as they were.

Restore builds the tree by syscalls injected into the root helper (in its new mount namespace, a copy of
the engine's): everything made private, the root bound on the --root directory, each mount put in place
parents first, propagation set, then pivot_root into it and the old tree detached. From then on the engine
reaches the tree's paths through /proc/<root>/root (engine/objects/files/paths.task_path).
"""

from __future__ import annotations

import errno
import gzip  # noqa: F401 - tarfile imports it lazily, and a namespace worker may not be able to load it
import io
import os
import re
import stat
import tarfile
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.abi import nr
from engine.abi.consts import (
    CLONE_NEWNS,
    MNT_DETACH,
    MOVE_MOUNT_F_EMPTY_PATH,
    MOVE_MOUNT_SET_GROUP,
    MS_BIND,
    MS_DIRSYNC,
    MS_MANDLOCK,
    MS_NOATIME,
    MS_NODEV,
    MS_NODIRATIME,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_RELATIME,
    MS_REMOUNT,
    MS_SHARED,
    MS_SLAVE,
    MS_STRICTATIME,
    MS_SYNCHRONOUS,
    MS_UNBINDABLE,
    O_CLOEXEC,
    O_DIRECTORY,
    O_PATH,
    O_RDONLY,
    OPEN_TREE_CLONE,
)
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import mnt_pb2
from engine.log import log
from engine.native import ffi, lib
from engine.objects import nsworker, taskroot, userns
from engine.objects.base import KernelObject
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

AT_FDCWD = -100
MNT_FLAGS = {"ro": MS_RDONLY, "nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC,
             "noatime": MS_NOATIME, "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME}
SB_FLAGS = {"ro": MS_RDONLY, "sync": MS_SYNCHRONOUS, "dirsync": MS_DIRSYNC, "mand": MS_MANDLOCK}
PER_MOUNT = (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME
             | MS_STRICTATIME)
FSTYPES = {"proc": mnt_pb2.PROC, "sysfs": mnt_pb2.SYSFS, "devtmpfs": mnt_pb2.DEVTMPFS, "tmpfs": mnt_pb2.TMPFS,
           "devpts": mnt_pb2.DEVPTS, "mqueue": mnt_pb2.MQUEUE, "cgroup": mnt_pb2.CGROUP,
           "cgroup2": mnt_pb2.CGROUP2, "binfmt_misc": mnt_pb2.BINFMT_MISC, "overlay": mnt_pb2.OVERLAYFS,
           "fuse": mnt_pb2.FUSE, "pstore": mnt_pb2.PSTORE, "securityfs": mnt_pb2.SECURITYFS,
           "debugfs": mnt_pb2.DEBUGFS, "tracefs": mnt_pb2.TRACEFS, "autofs": mnt_pb2.AUTOFS}
NAMES: dict[int, str] = {v: k for k, v in FSTYPES.items()}
# made fresh inside the restored namespaces (they show what those namespaces hold)
FRESH = {"proc", "sysfs", "devpts", "mqueue", "tmpfs"}
_ESC = re.compile(r"\\([0-7]{3})")


@record(frozen=True)
class Mount:
    """One line of mountinfo."""

    id: int
    parent: int
    dev: tuple[int, int]
    root: str
    point: str
    opts: list[str]
    tags: list[str]
    fstype: str
    source: str
    super: list[str]

    def tag(self, name: str) -> int:
        for t in self.tags:
            if t.startswith(name + ":"):
                return int(t.split(":")[1])
        return 0


def _unescape(s: str) -> str:
    return _ESC.sub(lambda m: chr(int(m[1], 8)), s)


def parse(text: str) -> list[Mount]:
    out = []
    for line in text.splitlines():
        left, _, right = line.partition(" - ")
        w = left.split()
        r = right.split()
        major, minor = w[2].split(":")
        out.append(Mount(int(w[0]), int(w[1]), (int(major), int(minor)), _unescape(w[3]), _unescape(w[4]),
                         w[5].split(","), w[6:], r[0], _unescape(r[1]),
                         r[2].split(",") if len(r) > 2 else []))
    return out


def kdev(dev: tuple[int, int]) -> int:
    """The kernel's encoding, as mnt_entry.root_dev has it."""
    return (dev[0] << 20) | dev[1]


def _tree_order(mounts: list[Mount]) -> list[Mount]:
    """Parents before children, siblings in mountinfo order (the order they were mounted in)."""
    ids = {m.id for m in mounts}
    children: dict[int, list[Mount]] = {}
    roots = []
    for m in mounts:
        if m.parent in ids and m.parent != m.id:
            children.setdefault(m.parent, []).append(m)
        else:
            roots.append(m)
    out: list[Mount] = []
    stack = list(reversed(roots))
    while stack:
        m = stack.pop()
        out.append(m)
        stack.extend(reversed(children.get(m.id, [])))
    return out


def _source_order(mounts: list[Mount]) -> list[Mount]:
    """Tree order, except that a mount showing part of a superblock comes after the first mount of that
    superblock's root (restore binds it from there), parents still before children: a tmpfs's file bound
    over a file of a tmpfs mounted before it must wait for its own tmpfs."""
    whole: dict[tuple[int, int], int] = {}
    for m in mounts:
        if m.root == "/":
            whole.setdefault(m.dev, m.id)
    ids = {m.id for m in mounts}
    done: set[int] = set()
    out: list[Mount] = []
    left = list(mounts)
    while left:
        rest = []
        for m in left:
            src = whole.get(m.dev, m.id)
            if (m.parent in done or m.parent not in ids or m.parent == m.id) and (src == m.id or src in done):
                out.append(m)
                done.add(m.id)
            else:
                rest.append(m)
        if len(rest) == len(left):  # nothing could go: keep the tree order for what is left
            out.extend(rest)
            break
        left = rest
    return out


# -- dump ------------------------------------------------------------------------------------------

@record
class MntDump:
    entries: list[mnt_pb2.mnt_entry] = field(default_factory=list)
    archives: dict[int, bytes] = field(default_factory=dict)  # root_dev -> tar.gz


def _join(base: str, rel: str) -> str:
    return base.rstrip("/") + "/" + rel.lstrip("/") if rel.strip("/") else base or "/"


def _under(path: str, root: str) -> str | None:
    """`path` relative to `root` ("/" for root itself), or None when it is outside."""
    r = root.rstrip("/")
    if path in (r, root):
        return "/"
    return path[len(r):] if path.startswith(r + "/") else None


def _engine_path(engine: list[Mount], m: Mount, root: str) -> str | None:
    """A path in the engine's namespace that shows this mount's root, if any: one under `root` first."""
    found = []
    for e in engine:
        if e.dev != m.dev:
            continue
        if m.root == e.root or m.root.startswith(e.root.rstrip("/") + "/"):
            path = _join(e.point, m.root[len(e.root.rstrip("/")):])
            try:
                s = os.stat(path)
            except OSError:
                continue
            if os.major(s.st_dev) == m.dev[0] and os.minor(s.st_dev) == m.dev[1]:
                found.append(path)
    return next((p for p in found if _under(p, root) is not None), found[0] if found else None)


def entry(m: Mount) -> mnt_pb2.mnt_entry:
    """A mount's entry as mountinfo shows it: per-mount flags, superblock flags and options (propagation is
    the caller's)."""
    e = mnt_pb2.mnt_entry(fstype=FSTYPES.get(m.fstype, mnt_pb2.AUTO), mnt_id=m.id, root_dev=kdev(m.dev),
                          parent_mnt_id=m.parent, flags=0, root=m.root, mountpoint=m.point,
                          source=m.source, options="")
    if e.fstype == mnt_pb2.AUTO:
        e.fsname = m.fstype
    flags = 0
    for o in m.opts:
        flags |= MNT_FLAGS.get(o, 0)
    if not flags & (MS_RELATIME | MS_NOATIME):
        flags |= MS_STRICTATIME
    sb = 0
    rest = []
    for o in m.super:
        if o in SB_FLAGS:
            sb |= SB_FLAGS[o]
        elif o != "rw":
            rest.append(o)
    e.options = ",".join(rest)
    e.sb_flags = sb
    e.flags = flags
    return e


def dump_tree(ctx: DumpContext) -> None:
    from engine.objects import namespaces

    if "mnt" not in namespaces.state(ctx).dumped:
        return
    s = ctx.files.state(MntDump)
    root = ctx.root
    with open(f"/proc/{root.pid}/mountinfo") as f:
        mounts = _source_order(_tree_order(parse(f.read())))
    with open("/proc/self/mountinfo") as f:
        engine = parse(f.read())
    where = f"pid {root.pid}: mount"
    if not ctx.opts.root:
        raise UnsupportedError(f"pid {root.pid} has a mount namespace of its own: dump it with --root (the "
                               "directory its root mount is, as criu has it)")
    rootdir = ctx.opts.root
    rs = os.stat(rootdir)
    top = mounts[0]
    if (os.major(rs.st_dev), os.minor(rs.st_dev)) != top.dev or top.point != "/":
        raise UnsupportedError(f"{where} {top.id} at / ({top.fstype} {top.source}) is not the file system "
                               f"of --root {ctx.opts.root}")
    ext = dict(ctx.opts.ext_mounts)
    outside_groups = {m.tag("shared") for m in engine} - {0}
    groups = {m.tag("shared") for m in mounts} - {0}
    points = [m.point for m in mounts]
    first_of_sb: dict[tuple[int, int], Mount] = {}
    covered: set[tuple[int, int]] = set()  # superblocks made fresh whose only mount is over-mounted
    for idx, m in enumerate(mounts):
        name = f"{where} {m.id} at {m.point} ({m.fstype} {m.source}, root {m.root})"
        if m.root.endswith("//deleted"):
            raise UnsupportedError(f"{name}: its root directory was removed since (no path leads to it to "
                                   "bind it again): not supported")
        e = entry(m)
        flags = e.flags
        shared, master = m.tag("shared"), m.tag("master")
        if shared:
            flags |= MS_SHARED
            e.shared_id = shared
            if shared in outside_groups:
                raise UnsupportedError(f"{name} is in peer group {shared} with mounts outside the tree's "
                                       "mount namespace: not supported")
        if master:
            flags |= MS_SLAVE
            e.master_id = master
            if master not in groups:
                raise UnsupportedError(f"{name} is a slave of peer group {master}, which is outside the "
                                       "tree's mount namespace: not supported")
        if "unbindable" in m.tags:
            e.stasis.unbindable = True
        e.flags = flags
        hidden = m.point in points[idx + 1:]  # another mount on the same point, on top of it
        if m is top:
            pass  # --root at restore
        elif m.point in ext:
            e.ext_mount, e.ext_key = True, ext[m.point]
        elif (path := _engine_path(engine, m, rootdir)) is not None:
            rel = _under(path, rootdir)
            if rel is None:
                raise UnsupportedError(f"{name} is a bind of {path}, outside --root {rootdir}: name it "
                                       f"with --external mnt[{m.point}]:KEY (and mnt[KEY]:PATH at restore)")
            e.stasis.bind_from_root = True
            e.stasis.host_path = rel  # under the root given at restore
        elif m.dev in covered:
            raise UnsupportedError(f"{name} is a bind of an over-mounted {m.fstype} (restore could reach "
                                   "only what covers it): not supported yet")
        elif m.dev in first_of_sb:
            e.stasis.bind_of = first_of_sb[m.dev].id
            if hidden:
                raise UnsupportedError(f"{name} is over-mounted: not supported yet")
        elif m.fstype in FRESH:
            if m.root != "/":
                raise UnsupportedError(f"{name}: a bind of part of a {m.fstype} nobody else shows: "
                                       "not supported")
            if hidden:
                covered.add(m.dev)  # made fresh, then covered: nothing can be bound from it after
            else:
                first_of_sb[m.dev] = m
            if m.fstype == "tmpfs":
                covers = points[idx + 1:].count(m.point)  # stacked on it (each on the one below)
                got = _archive_clone(root.pid, m.point, name, covers, e.stasis.unbindable)
                s.archives[e.root_dev] = got if got is not None else \
                    _archive(f"/proc/{root.pid}/root{m.point}", name)
        else:
            raise UnsupportedError(f"{name}: a {m.fstype} file system that the engine does not see and "
                                   "cannot make again: not supported")
        if (shared or master or e.stasis.unbindable) and hidden:  # set by path at restore: on the top one
            raise UnsupportedError(f"{name} is over-mounted and has propagation: not supported yet")
        s.entries.append(e)
    log.debug("pid %d: %d mounts", root.pid, len(s.entries))


def _archive(path: str, name: str) -> bytes:
    """A gzip'd tar of one mount's own files (submounts' contents excluded, their points kept), in the pax
    format GNU tar reads: extended attributes as SCHILY.xattr.* records, files with holes as GNU sparse
    1.0 members (only their data is stored, the holes are made again)."""
    buf = io.BytesIO()
    try:
        top = os.stat(path)
        socks: dict[tuple[int, int], str] = {}  # socket files with more names: the first one
        with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
            _add(tar, path, ".", socks)

            def walk(d: str, arc: str) -> None:
                for ent in sorted(os.scandir(d), key=lambda x: x.name):
                    full, a = os.path.join(d, ent.name), f"{arc}/{ent.name}"
                    st_ = os.lstat(full)
                    if st_.st_dev != top.st_dev:  # a submount: only its point
                        info = tarfile.TarInfo(a)
                        info.type = tarfile.DIRTYPE if stat.S_ISDIR(st_.st_mode) else tarfile.REGTYPE
                        info.mode = 0o755
                        tar.addfile(info)
                        continue
                    _add(tar, full, a, socks)
                    if stat.S_ISDIR(st_.st_mode):
                        walk(full, a)

            walk(path, ".")
    except OSError as exc:
        raise UnsupportedError(f"{name}: cannot archive its content: {exc}") from exc
    return buf.getvalue()


XATTR = "SCHILY.xattr."
KIND = "STASIS.type"  # "socket": a socket file, made with mknod at restore
INO = "STASIS.ino"  # the inode number: restore makes the files in that order, so a fresh tmpfs gives the same
INO_GAP_MAX = 4096  # numbers of files removed before the dump, skipped at restore by files made and removed


def _add(tar: tarfile.TarFile, full: str, arc: str, socks: dict[tuple[int, int], str]) -> None:
    """One file (not what is under a directory) with its extended attributes; a regular file with holes
    as a sparse member; a socket file (tar has no type for it) as an empty member marked STASIS.type."""
    info = tar.gettarinfo(full, arcname=arc)
    if info is None:
        info = _socket_info(socks, full, arc)
        if info is None:
            return
    try:
        names = os.listxattr(full, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in (errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        names = []
    pax: dict[str, str] = dict(info.pax_headers)
    info.pax_headers = pax
    if not info.islnk():
        pax[INO] = str(os.lstat(full).st_ino)
    for n in names:
        value = os.getxattr(full, n, follow_symlinks=False)
        pax[XATTR + n] = value.decode("utf-8", "surrogateescape")
    if not info.isreg() or KIND in pax:
        tar.addfile(info)
        return
    with open(full, "rb") as f:
        segs = _data_segments(f.fileno(), info.size)
        f.seek(0)  # SEEK_DATA/SEEK_HOLE moved it
        if sum(n for _, n in segs) == info.size:
            tar.addfile(info, f)
            return
        table = f"{len(segs)}\n" + "".join(f"{o}\n{n}\n" for o, n in segs)
        data = table.encode() + b"\0" * (-len(table) % tarfile.BLOCKSIZE)
        data += b"".join(os.pread(f.fileno(), n, o) for o, n in segs)
    pax.update({"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": arc,
                "GNU.sparse.realsize": str(info.size)})
    info.name = f"{os.path.dirname(arc)}/GNUSparseFile.0/{os.path.basename(arc)}"
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _socket_info(socks: dict[tuple[int, int], str], full: str, arc: str) -> tarfile.TarInfo | None:
    """A socket file as tar cannot show it (restore makes it with mknod; a socket of the tree bound to it
    replaces it then); its further names as hard links. None for anything else tarfile skips."""
    st_ = os.lstat(full)
    if not stat.S_ISSOCK(st_.st_mode):
        return None
    info = tarfile.TarInfo(arc)
    info.mode, info.uid, info.gid = stat.S_IMODE(st_.st_mode), st_.st_uid, st_.st_gid
    info.mtime = st_.st_mtime
    key = (st_.st_ino, st_.st_dev)
    if key in socks:
        info.type, info.linkname = tarfile.LNKTYPE, socks[key]
        return info
    if st_.st_nlink > 1:
        socks[key] = arc
    info.pax_headers = {KIND: "socket"}
    return info


def _data_segments(fd: int, size: int) -> list[tuple[int, int]]:
    """(offset, length) of every stretch of data of a file (SEEK_DATA/SEEK_HOLE); the rest are holes."""
    out: list[tuple[int, int]] = []
    off = 0
    while off < size:
        try:
            start = os.lseek(fd, off, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                break  # only a hole up to the end
            raise
        end = min(os.lseek(fd, start, os.SEEK_HOLE), size)
        out.append((start, end - start))
        off = end
    return out


def _archive_clone(pid: int, point: str, name: str, covers: int, unbindable: bool) -> bytes | None:
    """The tmpfs's own files as a detached clone of the mount shows them (open_tree(OPEN_TREE_CLONE) in
    the tree's mount namespace, without its submounts): also what a mount over a file or directory of it
    hides. A tmpfs under `covers` mounts stacked on its point, or an unbindable one (which cannot be cloned
    where it is), is read in a private copy of the namespace (made private first: nothing done there
    reaches the tree's) where what covers it is unmounted. None when the kernel cannot clone mounts
    (open_tree): the caller reads it through its path."""
    from engine.objects import nsworker

    rootfd = os.open(f"/proc/{pid}/root", O_PATH | O_DIRECTORY | O_CLOEXEC)
    nsfd = os.open(f"/proc/{pid}/ns/mnt", O_RDONLY | O_CLOEXEC)
    out = os.memfd_create("stasis-tmpfs", os.MFD_CLOEXEC)

    def sys(no: int, *args: int | bytes, what: str) -> int:
        keep = [ffi.new("char[]", a) for a in args if isinstance(a, bytes)]
        it = iter(keep)
        vals = [int(ffi.cast("uintptr_t", next(it))) if isinstance(a, bytes) else a for a in args]
        ret = lib.st_syscall(no, *vals, *([0] * (6 - len(vals))))
        if ret < 0:
            raise OSError(-ret, f"{what}: {os.strerror(-ret)}")
        return int(ret)

    try:
        def there() -> bool:
            os.fchdir(rootfd)  # the process's root (mountinfo's paths are relative to it)
            os.chroot(".")
            where = os.fsencode(point)
            if covers or unbindable:
                sys(nr.unshare, CLONE_NEWNS, what="unshare(CLONE_NEWNS)")
                sys(nr.mount, 0, b"/", 0, MS_REC | MS_PRIVATE, 0, what="mount --make-rprivate /")
                for _ in range(covers):
                    sys(nr.umount2, where, MNT_DETACH, what=f"umount2({point})")
            try:
                fd = sys(nr.open_tree, AT_FDCWD, where, OPEN_TREE_CLONE | O_CLOEXEC,
                         what=f"open_tree({point})")
            except OSError as exc:
                if exc.errno == errno.ENOSYS and not covers:
                    return False
                raise
            os.fchdir(fd)
            data = _archive(".", name)
            while data:
                data = data[os.write(out, data):]
            return True

        try:
            if not nsworker.run([(nsfd, CLONE_NEWNS)], there, f"{name}: its content"):
                return None
        except (OSError, RuntimeError) as exc:
            raise UnsupportedError(f"{name}: cannot archive its content: {exc}") from exc
        return os.pread(out, os.fstat(out).st_size, 0)
    finally:
        os.close(out)
        os.close(nsfd)
        os.close(rootfd)


def write_images(ctx: DumpContext) -> None:
    s = ctx.files.state(MntDump)
    if not s.entries:
        return
    ctx.images.write("mountpoints", s.entries, ns_id=ctx.root.ids.mnt_ns_id)
    for dev, data in s.archives.items():
        with ctx.images.open_raw("tmpfs-dev", "wb", dev=dev) as f:
            f.write(data)


# -- restore ---------------------------------------------------------------------------------------

def syscalls(t: Task) -> tuple[Callable[..., int], Callable[..., None]]:
    """call(sysno, *args, what=) injected into t, its string arguments put in the scratch area (each at
    its own offset); mount(src, tgt, fstype, flags, data, what) through it."""
    inj = t.injector

    def call(sysno: int, *args: int | str, what: str) -> int:
        vals, off = [], 0
        for a in args:
            if isinstance(a, str):
                data = a.encode() + b"\0"
                inj.put(data, off)
                vals.append(inj.scratch + off)
                off += (len(data) + 7) & ~7
            else:
                vals.append(a)
        return inj.call(sysno, *vals, what=what)

    def mount(src: str | int, tgt: str, fstype: str | int, flags: int, data: str | int, what: str) -> None:
        call(nr.mount, src, tgt, fstype, flags, data, what=f"mount {what} on {tgt}")

    return call, mount


def restore_tree(ctx: RestoreContext, root: Task) -> None:
    img = ctx.images
    entries = img.read("mountpoints", ns_id=root.ids.mnt_ns_id)
    if not entries:
        raise RestoreError("the tree has a mount namespace of its own but no mountpoints image")
    if not ctx.opts.root:
        raise RestoreError("the tree has a mount namespace of its own: restore it with --root DIR")
    base = ctx.opts.root.rstrip("/") or "/"
    ext = dict(ctx.opts.ext_mounts)
    inj = root.injector

    def target(e: mnt_pb2.mnt_entry) -> str:
        return _join(base, e.mountpoint)

    call, mount = syscalls(root)

    mount(0, "/", 0, MS_REC | MS_PRIVATE, 0, "private")  # nothing may reach the engine's mounts
    # the --root directory as it is before the new root mount covers it: binds of what is under it come
    # from there (through the helper's fd, which still leads into the old mounts)
    lower = call(nr.openat, AT_FDCWD, base, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, what=f"open({base})")
    try:
        _build(ctx, root, entries, base, lower, ext, target, mount, call)
    finally:
        inj.call(nr.close, lower, what="close")
    _propagation(entries, target, mount, call)
    call(nr.chdir, base, what=f"chdir({base})")
    call(nr.pivot_root, ".", ".", what="pivot_root(., .)")
    call(nr.umount2, ".", MNT_DETACH, what="umount2(old root)")
    call(nr.chdir, "/", what="chdir(/)")
    taskroot.set_task_root(f"/proc/{root.pid}/root")
    log.debug("pid %d: %d mounts in its new mount namespace", root.pid, len(entries))


def _build(ctx: RestoreContext, root: Task, entries: list[mnt_pb2.mnt_entry], base: str, lower: int,
           ext: dict[str, str], target: Callable[[mnt_pb2.mnt_entry], str],
           mount: Callable[..., None], call: Callable[..., int]) -> None:
    """Every mount in place, parents first."""
    from engine.objects import namespaces  # (namespaces calls this module)

    img = ctx.images
    by_id = {e.mnt_id: e for e in entries}
    inside = namespaces.rstate(ctx).userns  # mounts made inside a user namespace of the tree's own
    for e in entries:
        tgt = target(e)
        mflags = e.flags & PER_MOUNT
        fs = NAMES.get(e.fstype, e.fsname)
        seen = ""  # the source as the engine reaches it, when not by the same path
        outside = ""  # a mount of the engine's: attached as a copy the engine makes
        if e is entries[0]:
            src = outside = base
            seen = f"/proc/{root.pid}/fd/{lower}"
        elif e.ext_mount:
            if e.ext_key not in ext:
                raise RestoreError(f"mount {e.mnt_id} at {e.mountpoint} is external ({e.ext_key}): restore "
                                   f"with --external mnt[{e.ext_key}]:PATH")
            src = outside = ext[e.ext_key]
        elif e.stasis.bind_from_root:
            rel = e.stasis.host_path.rstrip("/")
            src = outside = _join(base, rel)
            seen = f"/proc/{root.pid}/fd/{lower}{rel}"
        elif e.stasis.HasField("bind_of"):
            first = by_id[e.stasis.bind_of]
            rel = e.root[len(first.root.rstrip("/")):]
            src = _join(target(first), rel)
            if NAMES.get(first.fstype, first.fsname) == "devpts" and rel.strip("/").isdigit():
                from engine.objects.files import pty  # a pty slave's node (runc's /dev/console)

                pty.early_node(ctx, f"/proc/{root.pid}/root{target(first)}", int(rel.strip("/")))
        else:
            src = ""
        _ensure_point(ctx, root, tgt, seen or (f"/proc/{root.pid}/root{src}" if src else ""), e)
        if outside:
            _attach_clone(ctx, root, outside, tgt, call, f"mount {e.mnt_id} at {e.mountpoint}")
            mount(0, tgt, 0, MS_PRIVATE, 0, "private")  # the copy was in the peer group of the engine's
            src = outside
        elif src:
            mount(src, tgt, 0, MS_BIND, 0, f"bind of {src}")
        if src:
            mount(0, tgt, 0, MS_BIND | MS_REMOUNT | mflags, 0, f"flags {mflags:#x}")
            continue
        if fs not in FRESH:
            raise RestoreError(f"mount {e.mnt_id} at {e.mountpoint}: {fs} cannot be made again")
        opts = e.options
        opts = userns.inner_options(opts, userns.translator(inside))
        if fs == "devpts" and "newinstance" not in opts.split(","):
            opts = ",".join(x for x in ("newinstance", opts) if x)
        ro = (mflags | e.sb_flags) & MS_RDONLY
        mount(e.source or fs, tgt, fs, (mflags | e.sb_flags) & ~MS_RDONLY, opts, fs)
        if fs == "tmpfs" and img.exists("tmpfs-dev", dev=e.root_dev):
            _extract(ctx, root, e, tgt)
        if ro:
            mount(0, tgt, 0, MS_REMOUNT | MS_BIND | mflags, 0, "read-only")


def _attach_clone(ctx: RestoreContext, root: Task, path: str, tgt: str, call: Callable[..., int],
                  what: str) -> None:
    """A copy of the engine's mount at `path` (open_tree, here), attached at `tgt` by the root helper.
    Not a bind by the helper: in a user namespace of the tree's own, the helper sees the engine's mounts
    locked (a copy of a less privileged namespace's), and a mount with locked mounts under it may not be
    bound alone; a detached copy made by the engine carries no locks."""
    buf = ffi.new("char[]", path.encode())
    fd = lib.st_syscall(nr.open_tree, AT_FDCWD, int(ffi.cast("uintptr_t", buf)), OPEN_TREE_CLONE | O_CLOEXEC,
                        0, 0, 0)
    if fd < 0:
        raise RestoreError(f"{what}: cannot copy the mount at {path}: open_tree: {os.strerror(-fd)}")
    try:
        tfd = ctx.fd_broker.hand_out(root, fd)
    finally:
        os.close(fd)
    if tfd < 0:
        raise RestoreError(f"{what}: cannot hand the copy of {path} to pid {root.pid}: {os.strerror(-tfd)}")
    try:
        call(nr.move_mount, tfd, "", AT_FDCWD, tgt, MOVE_MOUNT_F_EMPTY_PATH,
             what=f"move_mount(copy of {path})")
    finally:
        call(nr.close, tfd, what="close")


def _as_tree_root(ctx: RestoreContext, root: Task, fn: Callable[[], None], what: str) -> None:
    """fn() by the engine, or, with a user namespace of the tree's own, by a worker that is that
    namespace's root: a file system mounted there takes no file owned by an id it does not map (the
    engine's root is not mapped: EOVERFLOW)."""
    from engine.objects import namespaces, nestedns

    if namespaces.rstate(ctx).userns is None and nestedns.user_entry(ctx, root) is None:
        fn()
        return
    nsworker.run_in(root.pid, ["user"], fn, what, as_root=True)


def _ensure_point(ctx: RestoreContext, root: Task, tgt: str, src: str, e: mnt_pb2.mnt_entry) -> None:
    """The mount point exists (a directory, or a file for a file bind); `src` as the engine reaches it."""
    path = f"/proc/{root.pid}/root{tgt}"
    if os.path.lexists(path):
        return
    is_file = bool(src) and not os.path.isdir(src)

    def make() -> None:
        if is_file:
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644))
        else:
            os.makedirs(path, 0o755)

    try:
        _as_tree_root(ctx, root, make, f"mount {e.mnt_id}: its mount point")
    except (OSError, RuntimeError) as exc:
        raise RestoreError(f"mount {e.mnt_id}: cannot make its mount point {e.mountpoint}: {exc}") from exc


def _extract(ctx: RestoreContext, root: Task, e: mnt_pb2.mnt_entry, tgt: str) -> None:
    """The tmpfs's content from its archive (owners in the engine's view: inside a user namespace of the
    tree's own they are given as that namespace sees them)."""
    from engine.objects import namespaces, nestedns

    dest = f"/proc/{root.pid}/root{tgt}"
    inside = userns.chain([namespaces.rstate(ctx).userns, nestedns.user_entry(ctx, root)])

    def extract() -> None:  # the archive opened here: the worker may not read the engine's images
        with tarfile.open(fileobj=f, mode="r:gz") as tar:
            members = tar.getmembers()
            if inside is not None:
                for m in members:
                    m.uid, m.gid = inside("uid", m.uid), inside("gid", m.gid)
            kw = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
            if not _extract_in_order(tar, members, dest, kw):
                tar.extractall(dest, members=members, numeric_owner=True, **kw)  # type: ignore[arg-type]
            for m in members:  # after the owners: chown() drops security.capability
                for key, value in m.pax_headers.items():
                    if key.startswith(XATTR):
                        os.setxattr(os.path.join(dest, m.name), key[len(XATTR):],
                                    value.encode("utf-8", "surrogateescape"), follow_symlinks=False)
            top = next((m for m in members if m.name in (".", "./")), None)
            if top is not None:
                os.chmod(dest, top.mode)
                os.chown(dest, top.uid, top.gid)

    try:
        with ctx.images.open_raw("tmpfs-dev", dev=e.root_dev) as f:
            _as_tree_root(ctx, root, extract, f"mount {e.mnt_id}: its content")
    except (OSError, RuntimeError, tarfile.TarError) as exc:
        raise RestoreError(f"mount {e.mnt_id} at {e.mountpoint}: cannot restore its content: {exc}") from exc


def _extract_in_order(tar: tarfile.TarFile, members: list[tarfile.TarInfo], dest: str,
                      kw: dict[str, str]) -> bool:
    """Extract the members in the order of their old inode numbers (a fresh tmpfs numbers its inodes in
    the order they are made), skipping the numbers of files removed before the dump; directories' owners,
    modes and times last, as extractall() does. False (nothing done) for an archive without the numbers."""
    top = next((m for m in members if m.name in (".", "./")), None)
    own = [m for m in members if m is not top and not m.islnk()]
    if top is None or INO not in top.pax_headers or any(INO not in m.pax_headers for m in own):
        return False
    own.sort(key=lambda m: int(m.pax_headers[INO]))
    nxt = os.lstat(dest).st_ino + 1
    burn = os.path.join(dest, ".stasis-ino")
    for m in own:
        ino = int(m.pax_headers[INO])
        gap = ino - nxt
        if 0 < gap <= INO_GAP_MAX:
            for _ in range(gap):
                os.close(os.open(burn, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o600))
                os.unlink(burn)
        if m.pax_headers.get(KIND) == "socket":
            path = os.path.join(dest, m.name)
            os.mknod(path, stat.S_IFSOCK | 0o600)
            os.chown(path, m.uid, m.gid)
            os.chmod(path, m.mode)  # after the owner: chown clears set-id bits
            os.utime(path, (m.mtime, m.mtime))
        else:
            tar.extract(m, dest, set_attrs=not m.isdir(), numeric_owner=True, **kw)  # type: ignore[arg-type]
        nxt = max(nxt, ino + 1)
    for m in members:
        if m.islnk():
            tar.extract(m, dest, numeric_owner=True, **kw)  # type: ignore[arg-type]
    for m in sorted((m for m in own if m.isdir()), key=lambda m: m.name, reverse=True):
        path = os.path.join(dest, m.name)
        tar.chown(m, path, True)
        tar.utime(m, path)
        tar.chmod(m, path)
    return True


def _propagation(entries: list[mnt_pb2.mnt_entry], target, mount, call) -> None:  # type: ignore[no-untyped-def]
    leaders: dict[int, str] = {}  # peer group -> a member's path, once the group exists
    groups: dict[int, list[mnt_pb2.mnt_entry]] = {}
    for e in entries:
        if e.shared_id:
            groups.setdefault(e.shared_id, []).append(e)

    def set_group(src: str, dst: str) -> None:
        call(nr.move_mount, AT_FDCWD, src, AT_FDCWD, dst, MOVE_MOUNT_SET_GROUP,
             what=f"move_mount(SET_GROUP {src} -> {dst})")

    def slave_of(e: mnt_pb2.mnt_entry) -> None:
        set_group(leaders[e.master_id], target(e))
        mount(0, target(e), 0, MS_SLAVE, 0, "slave")

    todo = list(groups)
    while todo:
        ready = [g for g in todo if not groups[g][0].master_id or groups[g][0].master_id in leaders]
        if not ready:
            raise RestoreError(f"peer groups {todo}: their masters form a circle")
        for g in ready:
            first = groups[g][0]
            if first.master_id:
                slave_of(first)
            mount(0, target(first), 0, MS_SHARED, 0, "shared")
            leaders[g] = target(first)
            for e in groups[g][1:]:
                set_group(leaders[g], target(e))
            todo.remove(g)
    for e in entries:
        if e.master_id and not e.shared_id:
            if e.master_id not in leaders:
                raise RestoreError(f"mount {e.mnt_id}: its master group {e.master_id} is not in the images")
            slave_of(e)
        if e.stasis.unbindable:
            mount(0, target(e), 0, MS_UNBINDABLE, 0, "unbindable")


def restore_done(ctx: RestoreContext) -> None:
    taskroot.set_task_root("")


OBJECT = KernelObject("mounts", dump_tree=dump_tree, write_images=write_images, restore_done=restore_done,
                      restore_abort=restore_done)
