"""A task's memory from outside: bulk copies in and out, and which pages are present.

Bulk paths hand whole ranges to the kernel (process_vm_readv/writev, /proc/PID/mem); Python only
builds one iovec per contiguous range, never touches page contents and never loops per page.

Which pages hold what: the PAGEMAP_SCAN ioctl (6.7+). Without it (ENOTTY: 5.x, 6.1), or when
``STASIS_NO_PAGEMAP_SCAN=1`` is set in the environment (to test this path on a kernel that has the
ioctl), /proc/PID/pagemap is read in chunks of CHUNK_PAGES entries and the native helper
``st_pagemap_runs`` gives the same ranges the ioctl would: the categories it knows are derived from
each entry (present, swapped, file, soft-dirty, guard; the zero page by its PFN, which pagemap shows
to CAP_SYS_ADMIN). PAGE_IS_WPALLOWED, PAGE_IS_HUGE and PAGE_IS_WRITTEN cannot be derived (the ioctl
calls a none PTE in an allocated page table written, a hole not: pagemap shows both the same).
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterable

from engine.abi.consts import (
    KPF_ZERO_PAGE,
    MADV_HUGEPAGE,
    PAGE_IS_HUGE,
    PAGE_IS_PRESENT,
    PAGE_IS_WPALLOWED,
    PAGE_IS_WRITTEN,
    PM_FILE,
    PM_PFN_MASK,
    PM_PRESENT,
)
from engine.native import PAGE_SIZE, check, ffi, lib

IOV_MAX = 1024
CHUNK_PAGES = 65536  # pagemap entries per pread (512 KiB: 256 MiB of address space)
NO_PAGEMAP_SCAN_ENV = "STASIS_NO_PAGEMAP_SCAN"  # "1": never use the ioctl (the one place it is read)

Range = tuple[int, int]  # [start, end) in the target

_scan_ioctl: bool | None = None  # None: not probed yet
_zero_pfns: tuple[int, int, int] | None = None  # (zero page, huge zero page's [lo, hi)), 0 if unknown


def scan_path() -> tuple[bool, str]:
    """(PAGEMAP_SCAN in use, why): probed once on the engine's own pagemap."""
    global _scan_ioctl
    if os.environ.get(NO_PAGEMAP_SCAN_ENV, "") not in ("", "0"):
        return False, f"{NO_PAGEMAP_SCAN_ENV}={os.environ[NO_PAGEMAP_SCAN_ENV]} is set"
    if _scan_ioctl is None:
        _scan_ioctl = _probe_ioctl()
    return _scan_ioctl, "the kernel has PAGEMAP_SCAN" if _scan_ioctl else "no PAGEMAP_SCAN ioctl (6.7+)"


def _probe_ioctl() -> bool:
    with mmap.mmap(-1, PAGE_SIZE, flags=mmap.MAP_PRIVATE) as m:
        m[0] = 1
        addr = int(ffi.cast("uintptr_t", ffi.from_buffer(m)))
        mem = TaskMemory(os.getpid())
        try:
            mem.scan_ioctl(addr, addr + PAGE_SIZE, PAGE_IS_PRESENT, 0)
        except OSError:
            return False
        finally:
            mem.close()
    return True


def pfns_shown() -> bool:
    """pagemap shows PFNs (CAP_SYS_ADMIN): the fallback can tell the zero page from data."""
    return zero_pfns()[0] != 0


def zero_pfns() -> tuple[int, int, int]:
    """PFNs of the zero page and of the huge zero page ([lo, hi), or (0, 0)), probed once by
    read-faulting anonymous memory of the engine's own (0: not shown without CAP_SYS_ADMIN)."""
    global _zero_pfns
    if _zero_pfns is None:
        _zero_pfns = _probe_zero_pfns()
    return _zero_pfns


def _own_entries(addr: int, n: int) -> list[int]:
    fd = os.open("/proc/self/pagemap", os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.pread(fd, 8 * n, addr // PAGE_SIZE * 8)
    finally:
        os.close(fd)
    return [int.from_bytes(data[i:i + 8], "little") for i in range(0, len(data), 8)]


def _is_zero_page(pfn: int) -> bool | None:
    """/proc/kpageflags' KPF_ZERO_PAGE for pfn (None: not readable here)."""
    try:
        fd = os.open("/proc/kpageflags", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        data = os.pread(fd, 8, pfn * 8)
    except OSError:
        return None
    finally:
        os.close(fd)
    return len(data) == 8 and bool(int.from_bytes(data, "little") >> KPF_ZERO_PAGE & 1)


def _probe_zero_pfns() -> tuple[int, int, int]:
    with mmap.mmap(-1, PAGE_SIZE, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ) as m:
        _ = m[0]  # a read fault of private anonymous memory maps the zero page
        e = _own_entries(int(ffi.cast("uintptr_t", ffi.from_buffer(m))), 1)[0]
    zero = e & PM_PFN_MASK if e & PM_PRESENT else 0
    if not zero or _is_zero_page(zero) is False:
        return 0, 0, 0
    # The huge zero page: a read fault of a THP-eligible aligned 2 MiB range (if THP and its zero
    # page are enabled; else a small zero page or a real huge page, told apart below).
    huge = 512 * PAGE_SIZE
    lo = hi = 0
    with mmap.mmap(-1, 2 * huge, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ) as m:
        base = int(ffi.cast("uintptr_t", ffi.from_buffer(m)))
        aligned = (base + huge - 1) & ~(huge - 1)
        try:
            m.madvise(MADV_HUGEPAGE, aligned - base, huge)
        except OSError:
            pass
        _ = m[aligned - base]
        e0, e1 = _own_entries(aligned, 2)
        pfn = e0 & PM_PFN_MASK
        if e0 & PM_PRESENT and e1 & PM_PRESENT and pfn and pfn != zero and (e1 & PM_PFN_MASK) == pfn + 1:
            known = _is_zero_page(pfn)
            if known or (known is None and e0 & PM_FILE):  # a real huge page is anon: not PM_FILE
                lo, hi = pfn & ~511, (pfn & ~511) + 512
    return zero, lo, hi


class TaskMemory:
    """Memory of one task (an mm), addressed by its pid."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._mem_fd = os.open(f"/proc/{pid}/mem", os.O_RDWR | os.O_CLOEXEC)
        self._pagemap_fd = -1

    def close(self) -> None:
        for fd in (self._mem_fd, self._pagemap_fd):
            if fd >= 0:
                os.close(fd)
        self._mem_fd = self._pagemap_fd = -1

    # -- small accesses (FOLL_FORCE: works on read-only and PROT_NONE mappings) ---------------
    def read(self, addr: int, size: int) -> bytes:
        data = os.pread(self._mem_fd, size, addr)
        if len(data) != size:
            raise OSError(f"short read of {size} bytes at {addr:#x} in pid {self.pid}")
        return data

    def write(self, addr: int, data: bytes) -> None:
        if os.pwrite(self._mem_fd, data, addr) != len(data):
            raise OSError(f"short write of {len(data)} bytes at {addr:#x} in pid {self.pid}")

    # -- which pages hold data ----------------------------------------------------------------
    def scan(self, start: int, end: int, anyof: int, exclude: int) -> list[Range]:
        """Ranges in [start, end) with any category of `anyof` and none of `exclude`."""
        if scan_path()[0]:
            return self.scan_ioctl(start, end, anyof, exclude)
        return self.scan_pagemap(start, end, anyof, exclude)

    def _pagemap(self) -> int:
        if self._pagemap_fd < 0:
            self._pagemap_fd = os.open(f"/proc/{self.pid}/pagemap", os.O_RDONLY | os.O_CLOEXEC)
        return self._pagemap_fd

    def scan_pagemap(self, start: int, end: int, anyof: int, exclude: int) -> list[Range]:
        """scan() by reading /proc/PID/pagemap: one pread per CHUNK_PAGES pages, decoded natively."""
        if (anyof | exclude) & (PAGE_IS_WPALLOWED | PAGE_IS_HUGE | PAGE_IS_WRITTEN):
            raise ValueError("PAGE_IS_WPALLOWED, PAGE_IS_HUGE and PAGE_IS_WRITTEN cannot be read from "
                             "/proc/PID/pagemap")
        fd = self._pagemap()
        zero, hlo, hhi = zero_pfns()
        buf = bytearray(8 * min(CHUNK_PAGES, max(0, end - start) // PAGE_SIZE))
        ents = ffi.cast("uint64_t *", ffi.from_buffer(buf))
        runs = ffi.new("uint64_t[]", len(buf) // 8 + 1)
        out: list[Range] = []
        pos = start
        while pos < end:
            want = min(len(buf), (end - pos) // PAGE_SIZE * 8)
            view = memoryview(buf)[:want]
            got = os.preadv(fd, [view], pos // PAGE_SIZE * 8)
            view.release()
            if got <= 0:
                break
            n = lib.st_pagemap_runs(ents, got // 8, pos, zero, hlo, hhi, exclude, exclude, anyof, runs)
            for i in range(n):
                s, e = int(runs[2 * i]), int(runs[2 * i + 1])
                if out and out[-1][1] == s:
                    out[-1] = (out[-1][0], e)
                else:
                    out.append((s, e))
            pos += got // 8 * PAGE_SIZE
        return out

    def scan_ioctl(self, start: int, end: int, anyof: int, exclude: int, flags: int = 0,
                   require: int = 0) -> list[Range]:
        """scan() with the PAGEMAP_SCAN ioctl (6.7+); OSError ENOTTY on kernels without it. `require`:
        categories every page must have; `flags`: PM_SCAN_* (PM_SCAN_WP_MATCHING write-protects what
        it reports)."""
        self._pagemap()
        nvec = 512
        vec = ffi.new("struct st_page_region[]", nvec)
        arg = ffi.new("struct st_pm_scan_arg *")
        out: list[Range] = []
        pos = start
        while pos < end:
            arg.size = ffi.sizeof("struct st_pm_scan_arg")
            arg.flags = flags
            arg.start = pos
            arg.end = end
            arg.vec = int(ffi.cast("uintptr_t", vec))
            arg.vec_len = nvec
            arg.max_pages = 0
            arg.category_inverted = exclude
            arg.category_mask = exclude | require
            arg.category_anyof_mask = anyof
            arg.return_mask = anyof | exclude | require
            n = check(lib.st_pagemap_scan(self._pagemap_fd, arg), f"PAGEMAP_SCAN of pid {self.pid}")
            for i in range(n):
                s, e = int(vec[i].start), int(vec[i].end)
                if out and out[-1][1] == s:
                    out[-1] = (out[-1][0], e)
                else:
                    out.append((s, e))
            if int(arg.walk_end) <= pos:
                break
            pos = int(arg.walk_end)
        return out

    # -- bulk copies --------------------------------------------------------------------------
    def read_into(self, ranges: Iterable[Range], dest_addr: int, readable: bool = True) -> int:
        """Copy the target's ranges back to back into local memory at dest_addr. Returns bytes."""
        return self._batched(ranges, dest_addr, write=False, use_mem=not readable)

    def write_from(self, ranges: Iterable[Range], src_addr: int, writable: bool = True) -> int:
        """Copy local memory at src_addr, back to back, into the target's ranges."""
        return self._batched(ranges, src_addr, write=True, use_mem=not writable)

    def _batched(self, ranges: Iterable[Range], local: int, write: bool, use_mem: bool) -> int:
        total = 0
        batch: list[Range] = []
        for r in ranges:
            batch.append(r)
            if len(batch) == IOV_MAX:  # the kernel takes at most IOV_MAX iovecs a call
                total += self._xfer(batch, local + total, write, use_mem)
                batch = []
        if batch:
            total += self._xfer(batch, local + total, write, use_mem)
        return total

    def _xfer(self, ranges: list[Range], local: int, write: bool, use_mem: bool) -> int:
        size = sum(e - s for s, e in ranges)
        if use_mem:
            # /proc/PID/mem forces access to mappings without the needed protection.
            off = 0
            for s, e in ranges:
                buf = ffi.buffer(ffi.cast("char *", local + off), e - s)
                n = os.pwritev(self._mem_fd, [buf], s) if write else os.preadv(self._mem_fd, [buf], s)
                if n != e - s:
                    raise OSError(f"short /proc/{self.pid}/mem transfer at {s:#x}")
                off += e - s
            return size
        liov = ffi.new("struct iovec *")
        liov.iov_base = ffi.cast("void *", local)
        liov.iov_len = size
        riov = ffi.new("struct iovec[]", len(ranges))
        for i, (s, e) in enumerate(ranges):
            riov[i].iov_base = ffi.cast("void *", s)
            riov[i].iov_len = e - s
        done = 0
        while done < size:
            fn = lib.st_process_vm_writev if write else lib.st_process_vm_readv
            what = "process_vm_writev" if write else "process_vm_readv"
            n = check(fn(self.pid, liov, 1, riov, len(ranges)), what)
            if n == 0:
                raise OSError(f"process_vm transfer made no progress in pid {self.pid}")
            done += n
            if done < size:  # partial: retry the rest through /proc/PID/mem
                rest = _skip(ranges, done)
                return done + self._xfer(rest, local + done, write, use_mem=True)
        return size


def _skip(ranges: list[Range], nbytes: int) -> list[Range]:
    out: list[Range] = []
    for s, e in ranges:
        if nbytes >= e - s:
            nbytes -= e - s
            continue
        out.append((s + nbytes, e))
        nbytes = 0
    return out


def pages(nbytes: int) -> int:
    return (nbytes + PAGE_SIZE - 1) // PAGE_SIZE
