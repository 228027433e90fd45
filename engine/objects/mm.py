"""The address space: VMAs of every kind, mm fields (brk, arg/env, auxv, exe), and page contents.

Dump reads only pages that hold data (PAGEMAP_SCAN, or /proc/PID/pagemap where the kernel lacks it:
present or swapped, not the zero page, and for private file mappings only the COWed ones) straight
into a mapped pages-N.img; restore maps every VMA at its address, copies the pages in with one bulk
call per batch of ranges, then sets the final protections.
"""

from __future__ import annotations

import mmap
import os
import struct
import sys
import time
from typing import TYPE_CHECKING

from engine import proc
from engine.abi import nr
from engine.abi.consts import (
    MADV_DONTNEED,
    MADV_GUARD_INSTALL,
    MADV_POPULATE_WRITE,
    MAP_ANONYMOUS,
    MAP_DROPPABLE,
    MAP_FIXED,
    MAP_GROWSDOWN,
    MAP_LOCKED,
    MAP_NORESERVE,
    MAP_PRIVATE,
    MAP_SHARED,
    MLOCK_ONFAULT,
    MREMAP_FIXED,
    MREMAP_MAYMOVE,
    O_RDONLY,
    O_RDWR,
    PAGE_IS_FILE,
    PAGE_IS_GUARD,
    PAGE_IS_PFNZERO,
    PAGE_IS_PRESENT,
    PAGE_IS_SWAPPED,
    PR_GET_DUMPABLE,
    PR_GET_THP_DISABLE,
    PR_SET_DUMPABLE,
    PR_SET_MM,
    PR_SET_MM_MAP,
    PR_SET_THP_DISABLE,
    PR_SET_VMA,
    PR_SET_VMA_ANON_NAME,
    PROT_READ,
    PROT_WRITE,
)
from engine.compel.memory import Range, TaskMemory
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import mm_pb2, pagemap_pb2
from engine.images.reader import open_image
from engine.native import PAGE_SIZE, ffi, lib
from engine.objects import memtrack, pagechain, sysvipc
from engine.objects.base import KernelObject, Phase, Stage
from engine.objects.files import ghost, io_uring, memfd
from engine.objects.intask import fd_from_broker, open_by_engine, open_in_task
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

# vma_entry.status
ADDR_LIMIT = 1 << 57  # above any x86-64 user address (5-level paging: 56 bits): a pagemap entry's end
VMA_AREA_REGULAR = 1 << 0
VMA_AREA_VSYSCALL = 1 << 2
VMA_AREA_VDSO = 1 << 3
VMA_AREA_HEAP = 1 << 5
VMA_FILE_PRIVATE = 1 << 6
VMA_FILE_SHARED = 1 << 7
VMA_ANON_SHARED = 1 << 8
VMA_ANON_PRIVATE = 1 << 9
VMA_AREA_SYSVIPC = 1 << 10
VMA_AREA_VVAR = 1 << 12
VMA_AREA_MEMFD = 1 << 14
SPECIAL = VMA_AREA_VDSO | VMA_AREA_VVAR | VMA_AREA_VSYSCALL

PE_PRESENT, PE_LAZY = 4, 2

# VmFlags mnemonic -> madvise() advice that sets it (vma_entry.madv is a bitmap of 1 << advice)
MADV_BY_VMFLAG = {"sr": 2, "rr": 1, "dc": 10, "dd": 16, "mg": 12, "hg": 14, "nh": 15, "wf": 18}
UNSUPPORTED_VMFLAGS = {"ht": "hugetlb mapping", "um": "userfaultfd (missing)", "uw": "userfaultfd (wp)",
                       "ss": "shadow stack", "ui": "userfaultfd (minor)"}

PRCTL_MM_MAP = struct.Struct("<11QQII")


@record
class PageSet:
    """Ranges of one pagemap, and the pages image that holds their bytes back to back."""

    ranges: list[tuple[Range, int]]  # (range, pagemap flags)

    @property
    def nbytes(self) -> int:
        """Bytes in the pages image: the PE_PRESENT entries (PE_PARENT ones are the parent's)."""
        return sum(e - s for (s, e), fl in self.ranges if fl & PE_PRESENT)


@record
class TaskMm:
    """One process's address space: its image, and what dump and restore keep about it meanwhile."""

    img: mm_pb2.mm_entry = field(default_factory=mm_pb2.mm_entry)
    pages: PageSet = field(default_factory=lambda: PageSet([]))  # dump: private pages to copy
    shmem: dict[int, tuple[proc.Vma, PageSet]] = field(default_factory=dict)  # dump: shmem objects it copies
    kept: set[tuple[int, int]] = field(default_factory=set)  # restore: mappings inherited as they are
    shmem_fill: list[int] = field(default_factory=list)  # restore: shmem objects it creates and fills
    buffers: list[mmap.mmap] = field(default_factory=list)  # restore: alive until the copy is done


@record
class MmTree:
    """Tree-wide: which shared anonymous objects are dumped already / restored by whom."""

    shmem_seen: set[int] = field(default_factory=set)
    # shmid -> (pid, start, end, pgoff) of the mapping that created it
    shmem_owner: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)
    pages_ids: int = 0
    track: memtrack.Track | None = None  # dump: incremental dumps and dirty tracking

    def new_pages_id(self) -> int:
        self.pages_ids += 1
        return self.pages_ids


def state(t: Task) -> TaskMm:
    assert t.mm is not None, f"pid {t.pid}: no address space state"
    return t.mm


def _vma_kind(v: proc.Vma, pid: int, tracked: bool = False) -> tuple[int, int]:
    """(status, flags) of a VMA as CRIU encodes them. `tracked`: the engine's own userfaultfd tracks the
    process (memtrack), its registrations for write-protection are not the process's."""
    for flag, what in UNSUPPORTED_VMFLAGS.items():
        if flag in v.vmflags and not (tracked and flag == "uw"):
            raise UnsupportedError(f"pid {pid}: {what} at {v.start:#x}-{v.end:#x} is not supported yet")
    extra = (MAP_GROWSDOWN if "gd" in v.vmflags else 0) | (MAP_LOCKED if "lo" in v.vmflags else 0) | (
        MAP_NORESERVE if "nr" in v.vmflags else 0)
    private = MAP_DROPPABLE if "dp" in v.vmflags else MAP_PRIVATE  # droppable is a mapping type of its own
    if v.path == "[vsyscall]":
        return VMA_AREA_VSYSCALL | VMA_ANON_PRIVATE, MAP_PRIVATE | MAP_ANONYMOUS
    if v.path in ("[vvar]", "[vvar_vclock]"):
        return VMA_AREA_REGULAR | VMA_ANON_PRIVATE | VMA_AREA_VVAR, MAP_PRIVATE | MAP_ANONYMOUS
    if v.path == "[vdso]":
        return VMA_AREA_REGULAR | VMA_AREA_VDSO | VMA_ANON_PRIVATE, MAP_PRIVATE | MAP_ANONYMOUS
    if v.path == "[heap]":
        return VMA_AREA_REGULAR | VMA_AREA_HEAP | VMA_ANON_PRIVATE, private | MAP_ANONYMOUS | extra
    if sysvipc.is_sysv_vma(v):  # a SysV shm attach: sysvipc.py checks it, restore shmat()s it again
        return VMA_AREA_REGULAR | VMA_ANON_SHARED | VMA_AREA_SYSVIPC, (
            MAP_SHARED if v.shared else MAP_PRIVATE) | MAP_ANONYMOUS | extra
    if v.is_anon_shared:
        return VMA_AREA_REGULAR | VMA_ANON_SHARED, MAP_SHARED | MAP_ANONYMOUS | extra
    if v.inode == 0 and (not v.path or v.path.startswith("[stack") or v.path.startswith("[anon:")):
        if v.shared:
            raise UnsupportedError(f"pid {pid}: shared mapping {v.path or 'anon'} at {v.start:#x}")
        return VMA_AREA_REGULAR | VMA_ANON_PRIVATE, private | MAP_ANONYMOUS | extra
    if io_uring.is_ring_vma(v):  # the rings of an io_uring: the io_uring module makes the instance
        return VMA_AREA_REGULAR | VMA_FILE_SHARED, MAP_SHARED | extra
    if memfd.is_memfd_vma(v, pid):  # the memfd module dumps and makes the object; the mapping maps it
        return VMA_AREA_REGULAR | VMA_AREA_MEMFD | (VMA_FILE_SHARED if v.shared else VMA_FILE_PRIVATE), (
            MAP_SHARED if v.shared else MAP_PRIVATE) | extra
    if ghost.is_deleted_vma(v, pid):  # saved by ghost.py (checked there), mapped like any file
        return VMA_AREA_REGULAR | (VMA_FILE_SHARED if v.shared else VMA_FILE_PRIVATE), (
            MAP_SHARED if v.shared else MAP_PRIVATE) | extra
    if v.is_file and not v.path.endswith(" (deleted)") and v.path.startswith("/") and (
            os.path.exists(v.path) or os.path.exists(f"/proc/{pid}/root{v.path}")):  # or in its mount ns
        if v.shared:
            return VMA_AREA_REGULAR | VMA_FILE_SHARED, MAP_SHARED | extra
        return VMA_AREA_REGULAR | VMA_FILE_PRIVATE, MAP_PRIVATE | extra
    raise UnsupportedError(f"pid {pid}: mapping {v.path or '?'} at {v.start:#x}-{v.end:#x}: not supported")


_guards: bool | None = None


def _guards_possible() -> bool:
    """MADV_GUARD_INSTALL works here (6.13+), probed once on a page of the engine's own."""
    global _guards
    if _guards is None:
        with mmap.mmap(-1, PAGE_SIZE, flags=mmap.MAP_PRIVATE) as m:
            addr = int(ffi.cast("uintptr_t", ffi.from_buffer(m)))
            _guards = lib.st_syscall(nr.madvise, addr, PAGE_SIZE, MADV_GUARD_INSTALL, 0, 0, 0) == 0
    return _guards


def check(ctx: DumpContext, t: Task) -> None:
    if not t.alive:
        return
    memtrack.check(ctx, t)
    mem = TaskMemory(t.pid)
    try:
        for v in t.facts.vmas:
            status, _ = _vma_kind(v, t.pid, memtrack.tracks(ctx, t))
            if status & VMA_AREA_SYSVIPC:
                sysvipc.check_vma(ctx, t, v)
            if io_uring.is_ring_vma(v):
                io_uring.check_vma(t, v)
            if status & (VMA_FILE_SHARED | VMA_FILE_PRIVATE) and ghost.is_deleted_vma(v, t.pid):
                ghost.check_vma(ctx, t.pid, v)
            if v.path in ("[vsyscall]", "[vvar]", "[vvar_vclock]", "[vdso]"):
                continue
            if not _guards_possible():
                continue  # a kernel without guard regions (6.13): none to find, no scan to pay for
            try:
                guards = mem.scan(v.start, v.end, PAGE_IS_GUARD, 0)
            except OSError:  # a kernel without this category: none to find
                guards = []
            if guards:
                s, e = guards[0]
                raise UnsupportedError(f"pid {t.pid}: guard pages (MADV_GUARD_INSTALL) at {s:#x}-{e:#x} "
                                       "are not supported yet")
    finally:
        mem.close()


def dump(ctx: DumpContext, t: Task) -> None:
    """mm-PID.img fields and VMAs; collects which pages to copy (copied by dump_pages)."""
    st = t.leader.facts.stat
    inj = t.injector
    t.mm = TaskMm()
    mm = t.mm.img
    (mm.mm_start_code, mm.mm_end_code, mm.mm_start_stack) = int(st[26]), int(st[27]), int(st[28])
    (mm.mm_start_data, mm.mm_end_data, mm.mm_start_brk) = int(st[45]), int(st[46]), int(st[47])
    (mm.mm_arg_start, mm.mm_arg_end, mm.mm_env_start, mm.mm_env_end) = (int(x) for x in st[48:52])
    mm.mm_brk = inj.call(nr.brk, 0, what="brk(0)")
    auxv = proc.read_bytes(f"/proc/{t.pid}/auxv")
    mm.mm_saved_auxv.extend(struct.unpack(f"<{len(auxv) // 8}Q", auxv))
    mm.exe_file_id = ctx.files.by_path(os.readlink(f"/proc/{t.pid}/exe"), O_RDONLY)
    mm.dumpable = inj.call(nr.prctl, PR_GET_DUMPABLE, what="prctl(PR_GET_DUMPABLE)")
    mm.thp_disabled = bool(inj.call(nr.prctl, PR_GET_THP_DISABLE, what="prctl(PR_GET_THP_DISABLE)"))
    private = t.mm.pages
    shmem = t.mm.shmem
    mem = t.memory
    trackable: list[tuple[int, int]] = []
    for v in t.facts.vmas:
        if inj.scratch and v.start <= inj.scratch < v.end:
            continue  # our own scratch area is not the task's
        status, flags = _vma_kind(v, t.pid, memtrack.tracks(ctx, t))
        if (status & VMA_ANON_PRIVATE and status & VMA_AREA_REGULAR and not status & SPECIAL
                and v.prot & PROT_WRITE and "lo" not in v.vmflags):
            # anonymous only: write-protecting a file mapping leaves PTE markers in its empty entries, which
            # PAGEMAP_SCAN reports as swapped pages (the page scan would copy them); its COWed pages are
            # written whole each time; nor mlock()ed ones: registering makes the kernel fault a lock-on-fault
            # VMA in whole
            trackable.append((v.start, v.end))
        e = mm.vmas.add(start=v.start, end=v.end, pgoff=0, shmid=0, prot=v.prot, flags=flags,
                        status=status, fd=-1)
        madv = sum(1 << a for f, a in MADV_BY_VMFLAG.items() if f in v.vmflags)
        if madv:
            e.madv = madv
        _dump_vma_extras(v, e)
        if status & VMA_AREA_SYSVIPC:  # the content is the segment's (ipcns-shm), not the task's pages
            e.shmid, e.pgoff = v.inode, v.pgoff
            mode = os.lstat(f"/proc/{t.pid}/map_files/{v.start:x}-{v.end:x}").st_mode
            e.fdflags = O_RDWR if mode & 0o200 else O_RDONLY  # the attach: SHM_RDONLY or not
            continue
        if status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED):
            e.pgoff = v.pgoff
            mode = os.lstat(f"/proc/{t.pid}/map_files/{v.start:x}-{v.end:x}").st_mode
            e.fdflags = O_RDWR if mode & 0o200 else O_RDONLY
            if status & VMA_AREA_MEMFD:
                e.shmid = memfd.dump_vma(ctx, t, v, e.fdflags)
            elif io_uring.is_ring_vma(v):
                e.shmid = io_uring.dump_vma(ctx, t, v)
            elif ghost.is_deleted_vma(v, t.pid):
                e.shmid = ghost.dump_vma(ctx, t.pid, v, e.fdflags)
            else:
                e.shmid = ctx.files.by_path(v.path, e.fdflags)
        if status & VMA_ANON_SHARED:
            e.shmid = v.inode
            e.pgoff = v.pgoff
            if v.inode not in ctx.mm.shmem_seen:  # one copy of the object, whoever else maps it
                ctx.mm.shmem_seen.add(v.inode)
                shmem[v.inode] = (v, PageSet(_shmem_data(t.pid, v)))
            continue
        if status & (SPECIAL | VMA_FILE_SHARED) or not status & VMA_AREA_REGULAR:
            continue  # shared file pages live in the file; vDSO/vvar come from this kernel
        if v.rss_kb == 0 and v.swap_kb == 0:
            # smaps (read with the tree frozen) counts every present or swapped page but the zero pages
            # (which are not copied): nothing to scan for; saves reading the pagemap of big reservations
            continue
        exclude = PAGE_IS_PFNZERO | (PAGE_IS_FILE if status & VMA_FILE_PRIVATE else 0)
        lazy = PE_LAZY if status & VMA_ANON_PRIVATE else 0
        found = mem.scan(v.start, v.end, PAGE_IS_PRESENT | PAGE_IS_SWAPPED, exclude)
        private.ranges.extend(memtrack.classify(ctx, t, v.start, v.end, "uw" in v.vmflags, found, lazy))
    memtrack.arm(ctx, t, trackable)


def _dump_vma_extras(v: proc.Vma, e: mm_pb2.vma_entry) -> None:
    """What CRIU's vma_entry cannot say: the anon name, lock-on-fault, a seal, VM_ACCOUNT."""
    x = e.stasis
    x.SetInParent()  # present: this image says what the VMA's extras are (none, if empty)
    name = v.anon_name
    if name is not None:
        x.anon_name = name
    if "lf" in v.vmflags:
        x.lock_onfault = True
    if "sl" in v.vmflags:
        x.sealed = True
    if "ac" in v.vmflags:
        x.account = True


def _shmem_data(pid: int, v: proc.Vma) -> list[tuple[Range, int]]:
    """Data extents of a shared anonymous mapping, from its shmem file (SEEK_DATA/SEEK_HOLE).

    The whole object counts, not just the pages this task has touched: another process may have
    written the rest. Ranges are offsets in the object, as CRIU's pagemap-shmem images have them.
    """
    fd = os.open(f"/proc/{pid}/map_files/{v.start:x}-{v.end:x}", os.O_RDONLY)
    try:
        out: list[tuple[Range, int]] = []
        pos, end = 0, max(os.fstat(fd).st_size, v.pgoff + v.size)  # the whole object, whoever maps which part
        while pos < end:
            try:
                data = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:
                break
            if data >= end:
                break
            hole = min(os.lseek(fd, data, os.SEEK_HOLE), end)
            out.append(((data, hole), PE_PRESENT))
            pos = hole
        return out
    finally:
        os.close(fd)


def dump_pages(ctx: DumpContext, t: Task) -> None:
    """Copy the collected pages into pagemap/pages images: the task's, then each shmem object's."""
    pid = t.pid
    mem = t.memory
    private = state(t).pages
    pages_id = ctx.mm.new_pages_id()
    readable = {v.start: v.prot & PROT_READ for v in t.facts.vmas}
    vmas = t.facts.vmas

    def copy(ranges: list[Range], addr: int) -> None:
        _copy_from_task(mem, vmas, readable, ranges, addr)

    private.ranges = memtrack.compare_out(ctx, t, private.ranges, copy)
    _write_pageset(ctx, ("pagemap", {"pid": pid}), pages_id, private, copy)
    if ctx.opts.pre_dump:
        ctx.stats.pages_written += private.nbytes // PAGE_SIZE
        return  # criu's pre-dump: shared memory is written by the dump
    for shmid, (v, ps) in state(t).shmem.items():
        sid = ctx.mm.new_pages_id()
        _write_pageset(ctx, ("pagemap-shmem", {"shmid": shmid}), sid, ps,
                       lambda ranges, addr, v=v: _copy_from_shmem(pid, v, ranges, addr))
    ctx.stats.pages_written += private.nbytes // PAGE_SIZE
    ctx.stats.pages_scanned += sum(v.end - v.start for v in vmas) // PAGE_SIZE


def _copy_from_task(mem: TaskMemory, vmas: list[proc.Vma], readable: dict[int, int], ranges: list[Range],
                    addr: int) -> None:
    # process_vm_readv cannot read PROT_NONE/unreadable VMAs: those go through /proc/PID/mem.
    fast: list[Range] = []
    off = addr
    i = 0
    for s, e in ranges:
        while vmas[i].end <= s:
            i += 1
        if vmas[i].prot & PROT_READ:
            fast.append((s, e))
            continue
        if fast:
            off += mem.read_into(fast, off)
            fast = []
        off += mem.read_into([(s, e)], off, readable=False)
    if fast:
        mem.read_into(fast, off)


def _copy_from_shmem(pid: int, v: proc.Vma, ranges: list[Range], addr: int) -> None:
    fd = os.open(f"/proc/{pid}/map_files/{v.start:x}-{v.end:x}", os.O_RDONLY)
    try:
        off = addr
        for s, e in ranges:  # object offsets
            buf = ffi.buffer(ffi.cast("char *", off), e - s)
            if os.preadv(fd, [buf], s) != e - s:
                raise OSError(f"short read of shared memory at {s:#x}")
            off += e - s
    finally:
        os.close(fd)




CHUNK = 16 << 20  # bytes per bulk copy: a bounce buffer that stays cache- and TLB-friendly


def _chunks(ranges: list[Range], limit: int) -> list[list[Range]]:
    """Split ranges into groups of at most `limit` bytes (a range may be cut)."""
    out: list[list[Range]] = [[]]
    room = limit
    for s, e in ranges:
        while e - s > room:
            out[-1].append((s, s + room))
            s += room
            out.append([])
            room = limit
        if e > s:
            out[-1].append((s, e))
            room -= e - s
    return [c for c in out if c]


class Progress:
    """A one-line progress meter on stderr, only when it is a terminal and the copy is large."""

    def __init__(self, what: str, total: int) -> None:
        self.what, self.total = what, total
        self.on = sys.stderr.isatty() and total >= 256 << 20
        self.t0 = time.monotonic()

    def update(self, done: int) -> None:
        if self.on:
            rate = done / max(time.monotonic() - self.t0, 1e-6) / (1 << 20)
            sys.stderr.write(f"\r{self.what}: {done >> 20}/{self.total >> 20} MiB ({rate:.0f} MiB/s)")
            sys.stderr.flush()

    def close(self) -> None:
        if self.on:
            sys.stderr.write("\n")


def _write_pageset(ctx: DumpContext, pagemap: tuple[str, dict], pages_id: int, ps: PageSet, copy) -> None:
    """pagemap image + raw pages image.

    Pages go from the task into two reused, pre-faulted bounce buffers and from there to the file
    with write(2), a writer thread draining one buffer while the next is filled: writing whole
    pages avoids the page faults and zeroing that filling a mapped image file would cost.
    """
    entries = memtrack.pagemap_entries(ps.ranges)
    ctx.images.write(pagemap[0], [pagemap_pb2.pagemap_head(pages_id=pages_id), *entries], **pagemap[1])
    path = ctx.images.path("pages", pages_id=pages_id)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        if ps.nbytes:
            _copy_out(fd, [r for r, fl in ps.ranges if fl & PE_PRESENT], ps.nbytes, copy,
                      Progress(str(path), ps.nbytes))
    finally:
        os.close(fd)


def _copy_out(fd: int, ranges: list[Range], total: int, copy, progress: Progress) -> None:
    size = min(CHUNK, total)
    flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | getattr(mmap, "MAP_POPULATE", 0)
    if total <= size:  # one buffer's worth: nothing to overlap, no writer thread
        with mmap.mmap(-1, size, flags=flags) as buf:
            copy(ranges, int(ffi.cast("uintptr_t", ffi.from_buffer(buf))))
            _write_all(fd, memoryview(buf)[:total])
        return
    from concurrent.futures import Future, ThreadPoolExecutor

    bufs = [mmap.mmap(-1, size, flags=flags) for _ in range(2)]
    addrs = [int(ffi.cast("uintptr_t", ffi.from_buffer(b))) for b in bufs]
    pending: list[Future | None] = [None, None]
    done = 0
    try:
        with ThreadPoolExecutor(1) as writer:
            for i, chunk in enumerate(_chunks(ranges, size)):
                slot = i % 2
                if pending[slot] is not None:
                    pending[slot].result()  # type: ignore[union-attr]
                n = sum(e - s for s, e in chunk)
                copy(chunk, addrs[slot])
                pending[slot] = writer.submit(_write_all, fd, memoryview(bufs[slot])[:n])
                done += n
                progress.update(done)
            for f in pending:
                if f is not None:
                    f.result()
    finally:
        progress.close()
        for b in bufs:
            b.close()


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        data = data[os.write(fd, data):]


# -- restore ---------------------------------------------------------------------------------------

def _inherit(ctx: RestoreContext, t: Task) -> set[tuple[int, int]]:
    """A forked process starts with its creator's address space: private mappings that are the same
    as one of its own are kept (with them, the pages it still shares copy-on-write); the rest goes."""
    inj = t.injector
    mine = {(v.start, v.end): v for v in state(t).img.vmas
            if v.status & VMA_AREA_REGULAR and not v.status & SPECIAL}
    kept: set[tuple[int, int]] = set()
    for c in proc.vmas(t.pid):
        if c.path in ("[vvar]", "[vvar_vclock]", "[vdso]", "[vsyscall]") or c.start == ctx.scratch:
            continue
        v = mine.get((c.start, c.end))
        if v is not None and _same_private(ctx, c, v):
            kept.add((c.start, c.end))
        else:
            inj.call(nr.munmap, c.start, c.size, what="munmap inherited")
    return kept


def _same_private(ctx: RestoreContext, c: proc.Vma, v: mm_pb2.vma_entry) -> bool:
    if c.shared or c.prot != v.prot or "lo" in c.vmflags or v.flags & MAP_LOCKED:
        return False
    if bool(v.flags & MAP_GROWSDOWN) != ("gd" in c.vmflags):
        return False
    if v.HasField("stasis") and (bool(v.stasis.account) != ("ac" in c.vmflags) or v.stasis.lock_onfault
                                 or v.stasis.sealed or v.stasis.HasField("anon_name")):
        return False
    madv = sum(1 << a for f, a in MADV_BY_VMFLAG.items() if f in c.vmflags)
    if madv != (v.madv if v.HasField("madv") else 0):
        return False
    if v.status & VMA_FILE_PRIVATE:
        return c.is_file and c.path == ctx.files.get(v.shmid).reg.name and c.pgoff == v.pgoff
    return bool(v.status & VMA_ANON_PRIVATE) and c.inode == 0 and not c.path.startswith("/")


def fill_prot(v: mm_pb2.vma_entry) -> int:
    """The protection a VMA is mapped with while its pages are filled.

    Writable only where the VMA was charged as writable memory (VM_ACCOUNT) or is writable anyway:
    mapping a read-only private VMA writable would charge it and leave VM_ACCOUNT behind. Pages of a
    non-writable mapping go in through /proc/PID/mem. Images without Stasis's VMA extras (CRIU's) are
    filled writable, as CRIU does."""
    if v.status & (VMA_FILE_SHARED | VMA_ANON_SHARED):
        return v.prot  # never filled through the mapping
    if not v.HasField("stasis") or v.stasis.account:
        return v.prot | PROT_READ | PROT_WRITE
    return v.prot


def _shmem_sizes(ctx: RestoreContext) -> dict[int, int]:
    """Each shared anonymous object is as large as the furthest any mapping of it reaches."""
    sizes: dict[int, int] = {}
    for t in ctx.tasks:
        if t.mm is not None:
            for v in t.mm.img.vmas:
                if v.status & VMA_ANON_SHARED and not v.status & VMA_AREA_SYSVIPC:
                    sizes[v.shmid] = max(sizes.get(v.shmid, 0), v.pgoff + v.end - v.start)
    return sizes


def _map_new_shmem(ctx: RestoreContext, t: Task, v: mm_pb2.vma_entry, prot: int, flags: int) -> None:
    """Create the object whole, then move the part this VMA maps to its place: later mappings of the
    object (at other offsets, in other processes) map it through this one's map_files."""
    inj = t.injector
    size = v.end - v.start
    total = _shmem_sizes(ctx)[v.shmid]
    if total == size and not v.pgoff:
        ret = inj.raw(nr.mmap, v.start, size, prot, flags, -1, 0)
    else:
        tmp = inj.call(nr.mmap, 0, total, prot, MAP_SHARED | MAP_ANONYMOUS, -1, 0, what="mmap(shmem object)")
        ret = inj.raw(nr.mremap, tmp + v.pgoff, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, v.start)
        for s, e in ((tmp, tmp + v.pgoff), (tmp + v.pgoff + size, tmp + total)):
            if e > s:
                inj.call(nr.munmap, s, e - s, what="munmap(rest of the shmem object)")
    if ret != v.start:
        raise RestoreError(f"pid {t.pid}: shared mapping at {v.start:#x}-{v.end:#x} failed: "
                           f"{os.strerror(-ret) if ret < 0 else hex(ret)}")
    ctx.mm.shmem_owner[v.shmid] = (t.pid, v.start, v.end, v.pgoff)
    state(t).shmem_fill.append(v.shmid)


def restore_vmas(ctx: RestoreContext, t: Task) -> None:
    """Map every VMA at its address (see fill_prot); protections come after."""
    inj = t.injector
    mm = state(t).img
    open_fds: dict[tuple[int, int], int] = {}
    kept = _inherit(ctx, t) if t.inherited else set()
    state(t).kept = kept
    attaches: list[mm_pb2.vma_entry] = []
    try:
        for v in mm.vmas:
            if v.status & SPECIAL or not v.status & VMA_AREA_REGULAR or (v.start, v.end) in kept:
                continue
            if v.status & VMA_AREA_SYSVIPC:
                attaches.append(v)
                continue
            prot = fill_prot(v)
            flags = (v.flags | MAP_FIXED) & ~MAP_LOCKED
            fd = -1
            pgoff = v.pgoff
            if v.status & VMA_ANON_SHARED:
                if v.shmid not in ctx.mm.shmem_owner:
                    _map_new_shmem(ctx, t, v, prot, flags)
                    continue
                # the same shmem object as another mapping: map it through that one's map_files
                opid, ostart, oend, _ = ctx.mm.shmem_owner[v.shmid]
                key = (-v.shmid, 0)
                if key not in open_fds:  # by the engine: map_files wants privilege in the first user ns
                    open_fds[key] = open_by_engine(ctx, t, f"/proc/{opid}/map_files/{ostart:x}-{oend:x}",
                                                   os.O_RDWR)
                fd = open_fds[key]
                flags &= ~MAP_ANONYMOUS
            if v.status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED):
                key = (v.shmid, v.fdflags)
                if key not in open_fds:
                    ring = io_uring.is_ring_file(ctx, v.shmid)
                    if ring:
                        io_uring.prepare(ctx, t, v.shmid)  # made by the task: it is charged what it pins
                    nameless = v.status & VMA_AREA_MEMFD or ghost.is_remapped(ctx, v.shmid) or ring
                    open_fds[key] = (fd_from_broker(ctx, t, v.shmid) if nameless
                                     else open_in_task(t, ctx.files.get(v.shmid).reg.name, v.fdflags))
                fd = open_fds[key]
            if not v.status & (VMA_ANON_SHARED | VMA_FILE_PRIVATE | VMA_FILE_SHARED):
                pgoff = 0
            if fd >= 0 and v.status & VMA_FILE_SHARED and io_uring.is_ring_file(ctx, v.shmid):
                ret = io_uring.map_ring(t, v.start, v.end - v.start, prot, flags, fd, pgoff)
            else:
                ret = inj.raw(nr.mmap, v.start, v.end - v.start, prot, flags, fd, pgoff)
            if ret != v.start:
                raise RestoreError(f"pid {t.pid}: mmap at {v.start:#x}-{v.end:#x} failed: "
                                   f"{os.strerror(-ret) if ret < 0 else hex(ret)}")
        if attaches:
            sysvipc.attach_vmas(ctx, t, attaches)
    finally:
        for fd in open_fds.values():
            inj.raw(nr.close, fd)


POPULATE_MIN = 1 << 20  # ranges at least this big get their pages allocated up front
POPULATE_PIECE = 128 << 20


def restore_pages(ctx: RestoreContext, t: Task) -> None:
    mem = t.memory
    inj = t.injector
    kept = sorted(state(t).kept)
    readonly = sorted((v.start, v.end) for v in state(t).img.vmas if v.status & VMA_AREA_REGULAR
                      and not v.status & SPECIAL and not fill_prot(v) & PROT_WRITE)

    def fill(ranges: list[Range], addr: int) -> None:
        """Copy pages in; big ranges are first allocated by the task itself (MADV_POPULATE_WRITE),
        one piece ahead of the copy, so allocation (task's CPU) and copy (ours) overlap."""
        if kept:
            ranges, addr = _fill_inherited(t, kept, ranges, addr)
        if readonly:
            ranges, addr = _fill_readonly(t, readonly, ranges, addr)
        groups: list[tuple[list[Range], int, bool]] = []  # (ranges, local address, populate first)
        off = addr
        for s, e in ranges:
            if e - s < POPULATE_MIN:
                if groups and not groups[-1][2]:
                    groups[-1][0].append((s, e))
                else:
                    groups.append(([(s, e)], off, False))
            else:
                for p in range(s, e, POPULATE_PIECE):
                    groups.append(([(p, min(p + POPULATE_PIECE, e))], off + p - s, True))
            off += e - s
        pending = [g for g in groups if g[2]]
        if pending:
            (ps, pe), = pending[0][0]
            inj.start(nr.madvise, ps, pe - ps, MADV_POPULATE_WRITE)
        for g in groups:
            if g[2]:
                inj.finish()  # best effort: where it failed, the copy faults the pages in itself
                pending.pop(0)
                if pending:
                    (ps, pe), = pending[0][0]
                    inj.start(nr.madvise, ps, pe - ps, MADV_POPULATE_WRITE)
            mem.write_from(g[0], g[1])

    _fill(ctx, ("pagemap", {"pid": t.pid}), fill)
    for buf in state(t).buffers:
        buf.close()
    state(t).buffers.clear()
    for shmid in state(t).shmem_fill:  # objects this task created: their contents, into the object itself
        _, start, end, _ = ctx.mm.shmem_owner[shmid]
        fd = os.open(f"/proc/{t.pid}/map_files/{start:x}-{end:x}", os.O_RDWR | os.O_CLOEXEC)
        try:
            _fill(ctx, ("pagemap-shmem", {"shmid": shmid}),
                  lambda ranges, addr, fd=fd: _pwrite(fd, ranges, addr))
        finally:
            os.close(fd)


def _pwrite(fd: int, ranges: list[Range], addr: int) -> None:
    off = addr
    for s, e in ranges:  # object offsets
        if os.pwritev(fd, [ffi.buffer(ffi.cast("char *", off), e - s)], s) != e - s:
            raise RestoreError(f"short write into a shared memory object at {s:#x}")
        off += e - s


def _fill_readonly(t: Task, readonly: list[tuple[int, int]], ranges: list[Range],
                   addr: int) -> tuple[list[Range], int]:
    """Pages of mappings that are not writable go in through /proc/PID/mem; returns the rest, gathered
    into a buffer of their own when some were taken out."""
    mem = t.memory
    rest: list[tuple[Range, int]] = []
    off = addr
    for s, e in ranges:
        if any(rs <= s < re_ for rs, re_ in readonly):
            mem.write_from([(s, e)], off, writable=False)
        else:
            rest.append(((s, e), off))
        off += e - s
    if len(rest) == len(ranges):
        return ranges, addr
    return _gather(t, rest)


COMPARE_BLOCK = 64 << 10


def _fill_inherited(t: Task, kept: list[tuple[int, int]], ranges: list[Range],
                    addr: int) -> tuple[list[Range], int]:
    """Pages of inherited mappings: where the image has none, the inherited ones are dropped (they
    read as zero, or as the file, again); where the image's bytes are what was inherited, nothing is
    written, so the page stays shared with the parent. Returns the ranges left to copy as usual,
    backed by a local buffer of their own."""
    inj = t.injector
    mem = t.memory
    inside: list[tuple[Range, int]] = []
    rest: list[tuple[Range, int]] = []
    off = addr
    for s, e in ranges:
        (inside if any(ks <= s < ke for ks, ke in kept) else rest).append(((s, e), off))
        off += e - s
    for ks, ke in kept:  # the holes of the image inside a kept mapping
        pos = ks
        for (s, e), _ in inside:
            if ks <= s < ke:
                if s > pos:
                    inj.call(nr.madvise, pos, s - pos, MADV_DONTNEED, what="madvise(DONTNEED)")
                pos = e
        if pos < ke:
            inj.call(nr.madvise, pos, ke - pos, MADV_DONTNEED, what="madvise(DONTNEED)")
    scratch = mmap.mmap(-1, COMPARE_BLOCK)
    try:
        cur = int(ffi.cast("uintptr_t", ffi.from_buffer(scratch)))
        for (s, e), local in inside:
            differ: list[tuple[Range, int]] = []
            for b in range(s, e, COMPARE_BLOCK):
                n = min(COMPARE_BLOCK, e - b)
                mem.read_into([(b, b + n)], cur, readable=False)
                if scratch[:n] != ffi.buffer(ffi.cast("char *", local + b - s), n)[:]:
                    differ.append(((b, b + n), local + b - s))
            for (ds, de), dl in differ:
                mem.write_from([(ds, de)], dl, writable=False)
    finally:
        scratch.close()
    if not rest:
        return [], addr
    return _gather(t, rest)


def _gather(t: Task, rest: list[tuple[Range, int]]) -> tuple[list[Range], int]:
    """Ranges that are not contiguous in the image any more, copied into one local buffer."""
    if not rest:
        return [], 0
    total = sum(e - s for (s, e), _ in rest)
    buf = mmap.mmap(-1, total)
    base = int(ffi.cast("uintptr_t", ffi.from_buffer(buf)))
    pos = 0
    for (s, e), local in rest:
        ffi.memmove(ffi.cast("char *", base + pos), ffi.cast("char *", local), e - s)
        pos += e - s
    state(t).buffers.append(buf)  # alive until the copy is done
    return [r for r, _ in rest], base


def _fill(ctx: RestoreContext, pagemap: tuple[str, dict], copy) -> None:
    head, *entries = ctx.images.read(pagemap[0], **pagemap[1])
    pagemap_name = str(ctx.images.path(pagemap[0], **pagemap[1]))
    ranges: list[Range] = []
    chained = False
    for e in entries:
        n = e.nr_pages if e.HasField("nr_pages") else e.compat_nr_pages
        end = e.vaddr + n * PAGE_SIZE
        if e.vaddr % PAGE_SIZE or n <= 0 or end > ADDR_LIMIT:
            raise RestoreError(f"{pagemap_name}: entry at {e.vaddr:#x} of {n} pages is not a range of user "
                               "memory")
        if e.HasField("flags") and not e.flags & PE_PRESENT:
            if not e.flags & memtrack.PE_PARENT:
                raise RestoreError(f"{pagemap_name}: entry at {e.vaddr:#x} has no pages (flags {e.flags})")
            chained = True
        ranges.append((e.vaddr, e.vaddr + n * PAGE_SIZE))
    for (_, end), (start, _) in zip(sorted(ranges), sorted(ranges)[1:], strict=False):
        if start < end:
            raise RestoreError(f"{pagemap_name}: entries overlap at {start:#x}")
    nbytes = sum(e - s for s, e in ranges)
    if not nbytes:
        return
    if chained:  # pages of the parent images too: gathered into one buffer through the chain
        ranges.sort()
        chain = pagechain.Chain(ctx.images.root, 0, name=os.path.basename(pagemap_name))
        try:
            with mmap.mmap(-1, nbytes) as m:
                base = ffi.cast("uintptr_t", ffi.from_buffer(m))
                chain.read_into(ranges, int(base))
                copy(ranges, int(base))
                del base
        finally:
            chain.close()
        return
    path = ctx.images.path("pages", pages_id=head.pages_id)
    size = os.path.getsize(path)
    if size < nbytes:
        raise RestoreError(f"image {path}: {size} bytes, the pagemap needs {nbytes}")
    fd = open_image(path)  # a regular file, never a FIFO to block on
    try:
        flags = mmap.MAP_PRIVATE | getattr(mmap, "MAP_POPULATE", 0)  # map the cached pages at once
        with mmap.mmap(fd, nbytes, flags, mmap.PROT_READ) as m:
            base = ffi.cast("uintptr_t", ffi.from_buffer(m))
            copy(ranges, int(base))
            del base
    finally:
        os.close(fd)


def restore_protections(ctx: RestoreContext, t: Task) -> None:
    inj = t.injector
    kept = state(t).kept
    for v in state(t).img.vmas:
        if v.status & SPECIAL or not v.status & VMA_AREA_REGULAR or (v.start, v.end) in kept:
            continue
        if fill_prot(v) != v.prot:
            inj.call(nr.mprotect, v.start, v.end - v.start, v.prot, what=f"mprotect {v.start:#x}")
        if v.HasField("madv"):
            for advice in range(64):
                if v.madv & (1 << advice):
                    inj.call(nr.madvise, v.start, v.end - v.start, advice, what=f"madvise {advice}")
        if v.stasis.lock_onfault:
            inj.call(nr.mlock2, v.start, v.end - v.start, MLOCK_ONFAULT, what="mlock2(MLOCK_ONFAULT)")
        elif v.flags & MAP_LOCKED:
            inj.call(nr.mlock, v.start, v.end - v.start, what="mlock")
        if v.stasis.HasField("anon_name"):
            inj.put_str(v.stasis.anon_name)
            inj.call(nr.prctl, PR_SET_VMA, PR_SET_VMA_ANON_NAME, v.start, v.end - v.start, inj.scratch,
                     what="prctl(PR_SET_VMA_ANON_NAME)")


def restore_mm(ctx: RestoreContext, t: Task) -> None:
    """PR_SET_MM_MAP: code/data/brk/stack/arg/env bounds, auxv and the exe link, in one call."""
    inj = t.injector
    mm = state(t).img
    auxv = struct.pack(f"<{len(mm.mm_saved_auxv)}Q", *mm.mm_saved_auxv)
    exe_fd = open_in_task(t, ctx.files.get(mm.exe_file_id).reg.name, O_RDONLY)
    try:
        inj.put(auxv, 512)
        inj.put(PRCTL_MM_MAP.pack(mm.mm_start_code, mm.mm_end_code, mm.mm_start_data, mm.mm_end_data,
                                  mm.mm_start_brk, mm.mm_brk, mm.mm_start_stack, mm.mm_arg_start,
                                  mm.mm_arg_end, mm.mm_env_start, mm.mm_env_end, inj.scratch + 512,
                                  len(auxv), exe_fd))
        ret = inj.raw(nr.prctl, PR_SET_MM, PR_SET_MM_MAP, inj.scratch, PRCTL_MM_MAP.size, 0)
        if ret < 0:
            raise RestoreError(f"pid {t.pid}: prctl(PR_SET_MM_MAP): {os.strerror(-ret)}")
    finally:
        inj.raw(nr.close, exe_fd)
    if mm.thp_disabled:
        inj.call(nr.prctl, PR_SET_THP_DISABLE, 1, 0, 0, 0, what="prctl(PR_SET_THP_DISABLE)")


def restore_seals(ctx: RestoreContext, t: Task) -> None:
    """mseal() last: a sealed mapping can no longer be changed, and children forked earlier needed to."""
    for v in state(t).img.vmas:
        if v.stasis.sealed:
            t.injector.call(nr.mseal, v.start, v.end - v.start, 0, what=f"mseal {v.start:#x}")


def restore_dumpable(ctx: RestoreContext, t: Task) -> None:
    """After the credentials: changing uids resets dumpable."""
    mm = state(t).img
    if mm.HasField("dumpable") and mm.dumpable in (0, 1):
        t.injector.call(nr.prctl, PR_SET_DUMPABLE, mm.dumpable, what="prctl(PR_SET_DUMPABLE)")


def restore_vdso(ctx: RestoreContext, t: Task) -> None:
    """vDSO and vvar go where they were: the same kernel lays them out the same way, so one move."""
    inj = t.injector
    special = [v for v in proc.vmas(t.pid) if v.path in ("[vvar]", "[vvar_vclock]", "[vdso]")]
    wanted = sorted((v for v in state(t).img.vmas if v.status & (VMA_AREA_VDSO | VMA_AREA_VVAR)),
                    key=lambda v: v.start)
    if not wanted:
        for v in special:
            inj.call(nr.munmap, v.start, v.size, what="munmap vdso")
        return
    if [w.end - w.start for w in wanted] != [v.size for v in special]:
        raise RestoreError("the vDSO/vvar layout differs from this kernel's (a dump from another kernel "
                           "needs vDSO proxying, not supported yet)")
    delta = wanted[0].start - special[0].start
    if any(w.start - v.start != delta for w, v in zip(wanted, special, strict=True)):
        raise RestoreError("the vDSO/vvar areas are laid out differently on this kernel")
    if not delta:
        return
    for v in sorted(special, key=lambda v: v.start, reverse=delta > 0):
        ret = inj.raw(nr.mremap, v.start, v.size, v.size, MREMAP_MAYMOVE | MREMAP_FIXED, v.start + delta)
        if ret != v.start + delta:
            raise RestoreError(f"cannot move {v.path} to {v.start + delta:#x}: {os.strerror(-ret)}")


def write_images(ctx: DumpContext) -> None:
    for t in ctx.tasks:
        if t.alive:
            ctx.images.write("mm", state(t).img, pid=t.pid)


def load_images(ctx: RestoreContext) -> None:
    for t in ctx.tasks:
        if t.alive:
            t.mm = TaskMm(img=ctx.images.read_one("mm", pid=t.pid))


OBJECT = KernelObject(
    "memory",
    check=check,
    dump=dump,
    dump_data=dump_pages,
    write_images=write_images,
    load_images=load_images,
    stages=(
        Stage("vdso", Phase.MEMORY, restore_vdso),
        Stage("vmas", Phase.MEMORY, restore_vmas),
        Stage("pages", Phase.MEMORY, restore_pages),
        Stage("protections", Phase.MEMORY, restore_protections),
        Stage("mm", Phase.PROCESS, restore_mm, doc="PR_SET_MM_MAP once every VMA is in place"),
        Stage("dumpable", Phase.LATE, restore_dumpable, doc="after the credentials: changing uids resets it"),
        Stage("seals", Phase.LATE, restore_seals),
    ),
)
