"""A task's memory from outside: bulk copies in and out, and which pages are present.

Bulk paths hand whole ranges to the kernel (process_vm_readv/writev, /proc/PID/mem); Python only
builds one iovec per contiguous range, never touches page contents and never loops per page.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from engine.native import PAGE_SIZE, check, ffi, lib

IOV_MAX = 1024

Range = tuple[int, int]  # [start, end) in the target


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
        if self._pagemap_fd < 0:
            self._pagemap_fd = os.open(f"/proc/{self.pid}/pagemap", os.O_RDONLY | os.O_CLOEXEC)
        nvec = 512
        vec = ffi.new("struct st_page_region[]", nvec)
        arg = ffi.new("struct st_pm_scan_arg *")
        out: list[Range] = []
        pos = start
        while pos < end:
            arg.size = ffi.sizeof("struct st_pm_scan_arg")
            arg.flags = 0
            arg.start = pos
            arg.end = end
            arg.vec = int(ffi.cast("uintptr_t", vec))
            arg.vec_len = nvec
            arg.max_pages = 0
            arg.category_inverted = exclude
            arg.category_mask = exclude
            arg.category_anyof_mask = anyof
            arg.return_mask = anyof | exclude
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
