"""io_uring instances with no request in flight (CRIU cannot checkpoint io_uring at all).

What is kept: the ring sizes (SqMask/CqMask of fdinfo), the IORING_SETUP_* flags the engine can see
(CQSIZE from the sizes; SQE128/CQE32 from the sizes of the regions, where a page rounding does not
hide them), the kernel's head/tail counters, the whole rings region (IORING_OFF_SQ_RING, the same
memory as IORING_OFF_CQ_RING) and SQE array (IORING_OFF_SQES) with their contents, registered files
(IORING_REGISTER_FILES: each slot as the task's fd of that path) and registered buffers (addresses and
lengths from fdinfo, registered again in the task over its restored memory).

The mappings of the ring fd are VMAs of the io_uring file: mm.py asks this module (`is_ring_vma`,
`check_vma`, `dump_vma`, `is_ring_file`) and maps the broker's fd at the same offsets, so the task
sees the restored instance's memory at the same addresses.

Refused at dump (the tree keeps running): requests in flight (an SQE submitted but not consumed, a CQE
not reaped, counters that disagree, anything in fdinfo's PollList or CqOverflowList), SQPOLL (a kernel
thread), DEFER_TASKRUN (the restored instance would belong to the engine: seen by an enter from the
engine failing with EEXIST), personalities, rings with user memory (IORING_SETUP_NO_MMAP), a registered
file no fd of the task has (or several different files of that path), a mapped ring no fd of the task
holds, a process with io-wq worker threads (iou-wrk: on 6.18 requests on fixed files and reads of a
memfd go to one, and it stays). What fdinfo does not show is not kept: IORING_SETUP_SINGLE_ISSUER, IOPOLL,
COOP_TASKRUN, NO_SQARRAY, a registered eventfd, provided buffer rings, restrictions.

Restore: the task that maps the ring first makes the instance (injected io_uring_setup: the memory it
pins is charged to its mm, VmPin; the engine makes it when no task maps it), the engine takes it with
pidfd_getfd, submits and reaps NOPs until its counters are the old ones (they wrap at 2^32, so every
position is reachable; the cost is counter / sq_entries enters: about 2 M NOPs/s with 4 entries, 12-15 M/s
with 256 and more), then copies the old regions' bytes over the new ones.

Image: a file_entry of type EXT (CRIU's type for files it does not handle itself) with a
stasis_io_uring_entry at field 1000 (io_uring.proto): `crit show` decodes the entry without field 1000,
`crit x DIR fds` lists it as EXT.N.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
import re
import struct
from typing import TYPE_CHECKING

from engine import proc
from engine.abi import nr
from engine.abi.consts import (
    F_SETFL,
    IORING_ENTER_GETEVENTS,
    IORING_OFF_SQ_RING,
    IORING_OFF_SQES,
    IORING_REGISTER_BUFFERS,
    IORING_REGISTER_FILES,
    IORING_SETUP_CQE32,
    IORING_SETUP_CQSIZE,
    IORING_SETUP_SQE128,
    KCMP_FILE,
    MAP_ANONYMOUS,
    MAP_FIXED,
    MAP_FIXED_NOREPLACE,
    MAP_NORESERVE,
    MAP_PRIVATE,
    O_NONBLOCK,
)
from engine.compel.pidfd import getfd
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import fdinfo_pb2, io_uring_pb2
from engine.native import PAGE_SIZE, ffi, lib
from engine.objects.base import KernelObject, Phase, Stage
from engine.objects.files.kind import Fd, FdKind
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

TARGET = "anon_inode:[io_uring]"
PF_IO_WORKER = 0x10  # task flags in /proc/PID/stat
RINGS_HEAD = 64  # sizeof(struct io_rings) before the CQEs (cq_off.cqes)
SQE_SIZE, CQE_SIZE = 64, 16
USER_TOP = (1 << 47) - PAGE_SIZE  # the top of the default mmap window (x86_64)
PROT_NONE = 0
PLACEHOLDER = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE
_OCTAL = re.compile(r"\\([0-7]{3})")
_SLOT = re.compile(r"^\s*(\d+):\s?(.*)$")


@record
class Fdinfo:
    """The io_uring part of /proc/PID/fdinfo/N."""

    values: dict[str, str] = field(default_factory=dict)
    files: dict[int, str] = field(default_factory=dict)
    bufs: list[tuple[int, int]] = field(default_factory=list)
    personalities: list[str] = field(default_factory=list)
    polls: list[str] = field(default_factory=list)
    overflow: list[str] = field(default_factory=list)


FD_TYPE = fdinfo_pb2.EXT  # with its stasis_io_uring_entry (file_entry field 1000)


def _is_uring(e: fdinfo_pb2.file_entry) -> bool:
    return e.type == FD_TYPE and e.HasField("io_uring")


def parse_fdinfo(text: str) -> Fdinfo:
    out = Fdinfo()
    section = ""
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and not line[:1].isspace() and not key.strip().isdigit():
            key, value = key.strip(), value.strip()
            out.values[key] = value
            section = key
            continue
        if not line.strip():
            continue
        m = _SLOT.match(line)
        if section == "UserFiles" and m:  # the path as seq_file_path writes it: " \t\n\\" as octal escapes
            out.files[int(m[1])] = _OCTAL.sub(lambda x: chr(int(x[1], 8)), m[2])
        elif section == "UserBufs" and m:
            addr, _, n = m[2].partition("/")
            out.bufs.append((int(addr, 16), int(n)))
        elif section == "Personalities":
            out.personalities.append(line.strip())
        elif section == "PollList":
            out.polls.append(line.strip())
        elif section == "CqOverflowList":
            out.overflow.append(line.strip())
    return out


@record
class Instance:
    msg: io_uring_pb2.stasis_io_uring_instance
    fd_ids: list[int] = field(default_factory=list)  # file entries made for it (the first holds msg)


@record
class UringDump:
    instances: dict[int, Instance] = field(default_factory=dict)  # inode -> the instance
    maps: dict[int, int] = field(default_factory=dict)  # inode -> file id of its mappings


@record
class UringRestore:
    instances: dict[int, io_uring_pb2.stasis_io_uring_instance] = field(default_factory=dict)
    keepers: dict[int, int] = field(default_factory=dict)  # inode -> the engine's fd of the new instance
    extra: list[int] = field(default_factory=list)
    registered: set[int] = field(default_factory=set)  # inodes whose files/buffers are registered

    def owned_fds(self) -> list[int]:
        fds = list(self.keepers.values()) + self.extra
        self.keepers.clear()
        self.extra.clear()
        return fds


def available() -> bool:
    """io_uring_setup works for the engine (not disabled) and fdinfo shows the counters dump needs."""
    p = ffi.new("uint8_t[120]")
    fd = lib.st_syscall(nr.io_uring_setup, 1, int(ffi.cast("uintptr_t", p)), 0, 0, 0, 0)
    if fd < 0:
        return False
    try:
        with open(f"/proc/self/fdinfo/{fd}") as f:
            return "CachedSqHead" in parse_fdinfo(f.read()).values
    finally:
        os.close(fd)


def matches(fd: Fd) -> bool:
    return fd.target == TARGET


# -- dump ------------------------------------------------------------------------------------------

def _readable_pages(addr: int, pages: int) -> int:
    """How many pages from `addr` of the engine's own mapping the kernel backs: an io_uring mapping longer
    than its region maps, but touching the rest is SIGBUS; /proc/self/mem says EIO there instead."""
    mem = os.open("/proc/self/mem", os.O_RDONLY | os.O_CLOEXEC)
    try:
        def ok(i: int) -> bool:
            try:
                return len(os.pread(mem, 1, addr + i * PAGE_SIZE)) == 1
            except OSError:
                return False

        if not ok(0):
            return 0
        lo, hi = 1, pages  # pages [0, lo) readable, [hi, pages) not known
        if ok(pages - 1):
            return pages
        hi = pages - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if ok(mid):
                lo = mid + 1
            else:
                hi = mid
        return lo
    finally:
        os.close(mem)


def _region(fd: int, off: int, most: int, what: str) -> bytes:
    """The region at `off` (at most `most` bytes): as much of it as the kernel has."""
    try:
        m = mmap.mmap(fd, _pages(most) * PAGE_SIZE, mmap.MAP_SHARED, mmap.PROT_READ, offset=off)
    except OSError as exc:
        raise UnsupportedError(f"{what}: cannot map its region {off:#x}: {exc.strerror} "
                               "(IORING_SETUP_NO_MMAP: rings in the task's own memory are not supported "
                               "yet)") from exc
    try:
        addr = int(ffi.cast("uintptr_t", ffi.from_buffer(m)))
        n = _readable_pages(addr, _pages(most))
        if not n:
            raise UnsupportedError(f"{what}: its region {off:#x} has no memory (IORING_SETUP_NO_MMAP: rings "
                                   "in the task's own memory are not supported yet)")
        return m[:n * PAGE_SIZE]
    finally:
        m.close()


def _pages(n: int) -> int:
    return (n + PAGE_SIZE - 1) // PAGE_SIZE


def _rings_size(sq_entries: int, cq_entries: int, cqe_size: int) -> int:
    """The kernel's struct io_rings (64 bytes), the CQEs, the SQ index array at a cache line."""
    return (RINGS_HEAD + cq_entries * cqe_size + 63) // 64 * 64 + sq_entries * 4


def _idle(info: Fdinfo, where: str) -> int:
    """The counter every head and tail of an idle ring has; anything else is a request in flight."""
    v = info.values
    try:
        counters = {k: int(v[k]) for k in ("SqHead", "SqTail", "CachedSqHead", "CqHead", "CqTail",
                                            "CachedCqTail")}
    except (KeyError, ValueError) as exc:
        raise UnsupportedError(f"{where}: this kernel's fdinfo of io_uring lacks {exc}") from exc
    pending = [f"{k} {v.get(k)}" for k in ("SQEs", "CQEs") if v.get(k, "0") != "0"]
    if info.polls:
        pending.append(f"PollList {info.polls}")
    if info.overflow:
        pending.append(f"CqOverflowList {info.overflow}")
    if len(set(counters.values())) != 1 or pending:
        shown = ", ".join([f"{k} {n}" for k, n in counters.items()] + pending)
        raise UnsupportedError(f"{where}: the io_uring has requests in flight ({shown}): only an idle ring "
                               "(every submission consumed and completed, every completion reaped) can "
                               "be dumped")
    return counters["SqHead"]


def _register(ctx: DumpContext, t: Task, fd: Fd) -> Instance:
    inst = ctx.files.state(UringDump).instances
    if fd.stat.st_ino in inst:
        return inst[fd.stat.st_ino]
    where = fd.where
    with open(f"/proc/{fd.pid}/fdinfo/{fd.num}") as f:
        info = parse_fdinfo(f.read())
    v = info.values
    if v.get("SqThread", "-1") != "-1":
        raise UnsupportedError(f"{where}: an io_uring with a submission thread (IORING_SETUP_SQPOLL) is "
                               "not supported yet")
    if info.personalities:
        raise UnsupportedError(f"{where}: io_uring personalities (IORING_REGISTER_PERSONALITY) are not "
                               "supported yet")
    counter = _idle(info, where)
    sq_entries, cq_entries = int(v["SqMask"], 16) + 1, int(v["CqMask"], 16) + 1
    files: list[int] = []
    if info.files:
        by_target: dict[str, list[int]] = {}
        for x in t.facts.fds:
            by_target.setdefault(x.target, []).append(x.fd)
        for slot in range(int(v.get("UserFiles", "0"))):
            name = info.files.get(slot)
            if name is None:
                files.append(-1)
                continue
            nums = by_target.get(name)
            if not nums:
                raise UnsupportedError(f"{where}: registered file {slot} ({name}) is held by no fd of the "
                                       "process: the engine cannot reach it")
            if any(lib.st_syscall(nr.kcmp, t.pid, t.pid, KCMP_FILE, nums[0], n, 0) != 0 for n in nums[1:]):
                raise UnsupportedError(f"{where}: registered file {slot} ({name}): fds {nums} of the process "
                                       "have that name but are different files, and fdinfo does not say "
                                       "which one is registered")
            files.append(nums[0])
    elif v.get("UserFiles", "0") != "0":
        files = [-1] * int(v["UserFiles"])
    mine = getfd(fd.pid, fd.num)
    try:
        try:
            ret = lib.st_syscall(nr.io_uring_enter, mine, 0, 0, IORING_ENTER_GETEVENTS, 0, 0)
        except OSError:
            ret = 0
        if ret == -errno.EEXIST:
            raise UnsupportedError(f"{where}: an io_uring bound to its submitter task "
                                   "(IORING_SETUP_DEFER_TASKRUN) is not supported yet")
        rings = _region(mine, IORING_OFF_SQ_RING, _rings_size(sq_entries, cq_entries, 2 * CQE_SIZE), where)
        sqes = _region(mine, IORING_OFF_SQES, sq_entries * 2 * SQE_SIZE, where)
    finally:
        os.close(mine)
    flags = IORING_SETUP_CQSIZE if cq_entries != 2 * sq_entries else 0
    if _pages(len(sqes)) > _pages(sq_entries * SQE_SIZE):
        flags |= IORING_SETUP_SQE128
    if _pages(len(rings)) > _pages(_rings_size(sq_entries, cq_entries, CQE_SIZE)):
        flags |= IORING_SETUP_CQE32
    msg = io_uring_pb2.stasis_io_uring_instance(
        sq_entries=sq_entries, cq_entries=cq_entries, setup_flags=flags, sq_head=counter, sq_tail=counter,
        cq_head=counter, cq_tail=counter, rings=rings, sqes=sqes, files=files, pid=t.pid)
    for addr, n in info.bufs:
        msg.bufs.add(addr=addr, len=n)
    inst[fd.stat.st_ino] = Instance(msg)
    return inst[fd.stat.st_ino]


def _io_workers(pid: int) -> list[int]:
    """Threads the kernel made for io-wq (iou-wrk-N: PF_IO_WORKER): they run no user code, so nothing
    can be injected into them, and restore could not make them."""
    out = []
    for tid in proc.threads(pid):
        try:
            stat = proc.read_str(f"/proc/{pid}/task/{tid}/stat")
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[6]) & PF_IO_WORKER:
            out.append(tid)
    return out


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    if not ctx.opts.io_uring:
        raise UnsupportedError(f"{fd.where}: an io_uring instance: part of its state (setup flags other "
                               "than its sizes, a registered eventfd, provided buffers, restrictions) is not "
                               "visible from outside; dump an idle ring with --io-uring if the program uses "
                               "none of it")
    from engine.objects import namespaces

    if namespaces.id_translator(ctx, t) is not None:
        raise UnsupportedError(f"{fd.where}: an io_uring instance in a tree with a user namespace of its "
                               "own: restore makes the ring in the engine's hands and could not pass it to "
                               "the process (io_uring fds do not travel over SCM_RIGHTS, and pidfd_getfd "
                               "from inside the namespace is refused): not supported yet")
    _register(ctx, t, fd)  # first: an SQPOLL thread is an io worker too, and is refused as what it is
    workers = _io_workers(t.pid)
    if workers:
        raise UnsupportedError(f"{fd.where}: the process has io_uring worker threads (iou-wrk: {workers}), "
                               "made for requests that could not complete inline: a worker runs no user code "
                               "(nothing can be injected into it) and io-wq keeps at least one; not "
                               "supported yet")


def _fill(ctx: DumpContext, e: fdinfo_pb2.file_entry, ino: int, flags: int) -> None:
    x = e.io_uring
    x.id, x.flags, x.inode_id = e.id, flags, ino
    inst = ctx.files.state(UringDump).instances[ino]
    if not inst.fd_ids:
        x.instance.CopyFrom(inst.msg)
    inst.fd_ids.append(e.id)


def dump(ctx: DumpContext, t: Task, fd: Fd, e: fdinfo_pb2.file_entry) -> None:
    _fill(ctx, e, fd.stat.st_ino, e.io_uring.flags)


# -- mappings (asked by mm.py) ---------------------------------------------------------------------

def is_ring_vma(v: proc.Vma) -> bool:
    return v.path == TARGET


def check_vma(t: Task, v: proc.Vma) -> None:
    if not any(x.target == TARGET and x.ino == v.inode for x in t.facts.fds):
        raise UnsupportedError(f"pid {t.pid}: io_uring mapping at {v.start:#x}-{v.end:#x}: no fd of the "
                               "process holds its ring (a ring kept only by its mappings is not supported "
                               "yet)")


def dump_vma(ctx: DumpContext, t: Task, v: proc.Vma) -> int:
    """The id of the io_uring file entry the mapping maps (one per instance)."""
    st_ = ctx.files.state(UringDump)
    if v.inode not in st_.instances:
        raise UnsupportedError(f"pid {t.pid}: io_uring mapping at {v.start:#x}-{v.end:#x}: its ring is "
                               "held by no fd of this process's own fd table")
    if v.inode not in st_.maps:
        e = ctx.files.new(FD_TYPE)
        x = e.io_uring
        x.fown.uid = x.fown.euid = x.fown.signum = x.fown.pid_type = x.fown.pid = 0
        _fill(ctx, e, v.inode, os.O_RDWR)
        st_.maps[v.inode] = e.id
    return st_.maps[v.inode]


def is_ring_file(ctx: RestoreContext, fid: int) -> bool:
    return _is_uring(ctx.files.get(fid))


def _holes(pid: int, lo: int, hi: int) -> list[tuple[int, int]]:
    out, cur = [], lo
    for v in sorted(proc.vmas(pid), key=lambda v: v.start):
        if v.start >= hi:
            break
        if v.start > cur:
            out.append((cur, v.start))
        cur = max(cur, v.end)
    if cur < hi:
        out.append((cur, hi))
    return out


def map_ring(t: Task, start: int, size: int, prot: int, flags: int, fd: int, off: int) -> int:
    """mmap of a ring region at `start` (for mm.py). io_uring refuses any address asked of it, even
    with MAP_FIXED (and so does mremap to a place), because of cache aliasing: the kernel chooses. So
    every other free range of the address space is covered by a PROT_NONE placeholder for a moment and
    the only free place left is `start`."""
    inj = t.injector
    inj.raw(nr.munmap, start, size)
    with open("/proc/sys/vm/mmap_min_addr") as f:
        lo = max(PAGE_SIZE, (int(f.read()) + PAGE_SIZE - 1) // PAGE_SIZE * PAGE_SIZE)
    placeholders: list[tuple[int, int]] = []
    got = -errno.ENOMEM
    try:
        for a, b in _holes(t.pid, lo, USER_TOP):
            for x, y in ((a, min(b, start)), (max(a, start + size), b)):
                if y > x:
                    ret = inj.raw(nr.mmap, x, y - x, PROT_NONE, PLACEHOLDER, -1, 0)
                    if ret == x:
                        placeholders.append((x, y - x))
        got = inj.raw(nr.mmap, 0, size, prot, flags & ~(MAP_FIXED | MAP_FIXED_NOREPLACE), fd, off)
    finally:
        for x, n in placeholders:
            inj.raw(nr.munmap, x, n)
    if got >= 0 and got != start:
        inj.raw(nr.munmap, got, size)
    return got


# -- restore ---------------------------------------------------------------------------------------

def load_images(ctx: RestoreContext) -> None:
    st_ = ctx.files.state(UringRestore)
    for e in ctx.files.entries:
        if _is_uring(e) and e.io_uring.HasField("instance"):
            st_.instances[e.io_uring.inode_id] = e.io_uring.instance


def _u32(m: mmap.mmap, off: int) -> int:
    return int.from_bytes(m[off:off + 4], "little")


def _set_u32(m: mmap.mmap, off: int, value: int) -> None:
    m[off:off + 4] = (value & 0xFFFFFFFF).to_bytes(4, "little")


def _setup(msg: io_uring_pb2.stasis_io_uring_instance, what: str, t: Task | None) -> tuple[int, list[int]]:
    """The new instance, made in task `t` if given (the ring charges the memory it pins to its maker's
    mm: VmPin), else in the engine; the engine's fd of it and struct io_uring_params as the kernel
    filled it (30 u32)."""
    params = struct.pack("<3I", msg.sq_entries, msg.cq_entries, msg.setup_flags) + bytes(108)
    if t is None:
        p = ffi.new("uint8_t[120]", params)
        ret = lib.st_syscall(nr.io_uring_setup, msg.sq_entries, int(ffi.cast("uintptr_t", p)), 0, 0, 0, 0)
        out = bytes(ffi.buffer(p))
    else:
        inj = t.injector
        inj.put(params)
        ret = inj.raw(nr.io_uring_setup, msg.sq_entries, inj.scratch)
        out = inj.get(0, 120)
        if ret >= 0:
            try:
                fd = getfd(t.pid, ret)
            finally:
                inj.raw(nr.close, ret)
            ret = fd
    if ret < 0:
        raise RestoreError(f"{what}: io_uring_setup({msg.sq_entries}, flags {msg.setup_flags:#x}): "
                           f"{os.strerror(-ret)}")
    q = list(struct.unpack("<30I", out))
    if (q[0], q[1]) != (msg.sq_entries, msg.cq_entries):
        os.close(ret)
        raise RestoreError(f"{what}: io_uring_setup made rings of {q[0]}/{q[1]} entries, the image has "
                           f"{msg.sq_entries}/{msg.cq_entries}")
    return ret, q


def _advance(fd: int, q: list[int], rings: mmap.mmap, sqes: mmap.mmap, target: int, sqe_size: int,
             what: str) -> None:
    """Submit and reap NOPs until the kernel's counters are `target` (mod 2^32)."""
    sq_head, sq_tail, sq_mask, sq_array = q[10], q[11], q[12], q[16]
    cq_head, cq_tail = q[20], q[21]
    n = q[0]
    mask = _u32(rings, sq_mask)
    for i in range(n):  # every slot a NOP, the index array the identity: each round only moves the tail
        sqes[i * sqe_size:(i + 1) * sqe_size] = bytes(sqe_size)
        _set_u32(rings, sq_array + 4 * i, i & mask)
    done = 0
    while done < target:
        k = min(n, target - done)
        tail = _u32(rings, sq_tail)
        _set_u32(rings, sq_tail, tail + k)
        ret = lib.st_syscall(nr.io_uring_enter, fd, k, k, IORING_ENTER_GETEVENTS, 0, 0)
        if ret != k:
            raise RestoreError(f"{what}: io_uring_enter of {k} NOPs: "
                               f"{os.strerror(-ret) if ret < 0 else ret}")
        _set_u32(rings, cq_head, _u32(rings, cq_tail))
        done += k
    got = [_u32(rings, o) for o in (sq_head, sq_tail, cq_head, cq_tail)]
    if got != [target & 0xFFFFFFFF] * 4:
        raise RestoreError(f"{what}: the counters are {got} after {target} NOPs")


def prepare(ctx: RestoreContext, t: Task, fid: int) -> None:
    """Make the instance of file `fid` in task `t` (for mm.py, before it maps the ring) unless made."""
    _keeper(ctx, ctx.files.get(fid).io_uring.inode_id, t)


def _keeper(ctx: RestoreContext, ino: int, t: Task | None = None) -> int:
    st_ = ctx.files.state(UringRestore)
    if ino in st_.keepers:
        return st_.keepers[ino]
    msg = st_.instances.get(ino)
    what = f"io_uring {ino}"
    if msg is None:
        raise RestoreError(f"files.img has no io_uring instance {ino}")
    fd, p = _setup(msg, what, t)
    st_.keepers[ino] = fd
    sqe_size = 2 * SQE_SIZE if msg.setup_flags & IORING_SETUP_SQE128 else SQE_SIZE
    try:
        rings = mmap.mmap(fd, len(msg.rings), mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE,
                          offset=IORING_OFF_SQ_RING)
        sqes = mmap.mmap(fd, len(msg.sqes), mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE,
                         offset=IORING_OFF_SQES)
    except OSError as exc:
        raise RestoreError(f"{what}: the new instance's regions are not as large as the image's "
                           f"({len(msg.rings)}, {len(msg.sqes)} bytes): {exc.strerror}") from exc
    try:
        _advance(fd, p, rings, sqes, msg.sq_tail, sqe_size, what)
        rings[:] = msg.rings
        sqes[:] = msg.sqes
    finally:
        rings.close()
        sqes.close()
    return fd


def open_(ctx: RestoreContext, e: fdinfo_pb2.file_entry) -> int:
    keeper = _keeper(ctx, e.io_uring.inode_id)
    fcntl.fcntl(keeper, F_SETFL, e.io_uring.flags & O_NONBLOCK)
    fd = os.dup(keeper)
    ctx.files.state(UringRestore).extra.append(fd)
    return fd


def restore(ctx: RestoreContext, t: Task) -> None:
    """Registered files and buffers, in the task that had them, once its fds and memory are in place."""
    tf = t.files
    if tf is None or not tf.owns_table:
        return
    st_ = ctx.files.state(UringRestore)
    inj = t.injector
    for fdi in sorted(tf.fdinfo, key=lambda x: x.fd):
        e = ctx.files.get(fdi.id)
        if not _is_uring(e) or e.io_uring.inode_id in st_.registered:
            continue
        msg = st_.instances.get(e.io_uring.inode_id)
        if msg is None or msg.pid != t.pid:
            continue
        st_.registered.add(e.io_uring.inode_id)
        if msg.files:
            inj.put(b"".join(n.to_bytes(4, "little", signed=True) for n in msg.files))
            inj.call(nr.io_uring_register, fdi.fd, IORING_REGISTER_FILES, inj.scratch, len(msg.files),
                     what=f"io_uring_register({fdi.fd}, IORING_REGISTER_FILES)")
        if msg.bufs:
            inj.put(b"".join(b.addr.to_bytes(8, "little") + b.len.to_bytes(8, "little") for b in msg.bufs))
            inj.call(nr.io_uring_register, fdi.fd, IORING_REGISTER_BUFFERS, inj.scratch, len(msg.bufs),
                     what=f"io_uring_register({fdi.fd}, IORING_REGISTER_BUFFERS)")


KIND = FdKind("io_uring", FD_TYPE, "io_uring", matches, dump, open_, check=check,
              load_images=load_images)

OBJECT = KernelObject(
    "io_uring",
    stages=(Stage("io_uring", Phase.PROCESS, restore, after=("files",),
                  doc="registered files and buffers, in the task once its fds are placed"),),
)
