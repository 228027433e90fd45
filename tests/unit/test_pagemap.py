"""Which pages hold data: the /proc/PID/pagemap fallback gives the ranges PAGEMAP_SCAN gives.

A real child process builds a mixed layout (written pages, never-touched ones, read-only touched ones
that map the zero page, pages dropped again, pages paged out, a private file mapping with read and
COWed pages, a huge zero page and a real huge page where THP allows, a guard page where the kernel
has them); both paths scan every one of its VMAs with the selections the engine makes, and the
anonymous mapping's ranges are also checked against what the child did.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import needs_root
from engine import proc
from engine.abi.consts import (
    PAGE_IS_FILE,
    PAGE_IS_GUARD,
    PAGE_IS_PFNZERO,
    PAGE_IS_PRESENT,
    PAGE_IS_SOFT_DIRTY,
    PAGE_IS_SWAPPED,
)
from engine.compel import memory
from engine.compel.memory import TaskMemory
from engine.native import PAGE_SIZE

P = PAGE_SIZE
HUGE = 512 * P

CHILD = r"""
import ctypes, mmap, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
P = mmap.PAGESIZE
HUGE = 512 * P
def addr(m):
    return ctypes.addressof(ctypes.c_char.from_buffer(m))
def madv(a, n, advice):
    return libc.madvise(a, n, advice) == 0
anon = mmap.mmap(-1, 64 * P, flags=mmap.MAP_PRIVATE)
a = addr(anon)
for i in (0, 1, 2, 3, 12, 14, 16, 17, 20, 21, 22, 23, 40):
    anon[i * P] = 0x5a
for i in (8, 9, 10, 11, 13, 41):
    _ = anon[i * P + 7]                      # read fault: the zero page
madv(a + 16 * P, 2 * P, 21)                  # MADV_PAGEOUT: swapped where there is swap
madv(a + 20 * P, 4 * P, 4)                   # MADV_DONTNEED: gone again
guard = madv(a + 50 * P, P, 102)             # MADV_GUARD_INSTALL (6.13+)
f = open(sys.argv[1], "r+b")
fm = mmap.mmap(f.fileno(), 8 * P, flags=mmap.MAP_PRIVATE)
for i in (0, 1):
    _ = fm[i * P]                            # page cache pages: PAGE_IS_FILE
fm[2 * P] = 0x77                             # COWed: anonymous
thp = mmap.mmap(-1, 5 * HUGE, flags=mmap.MAP_PRIVATE)
t = addr(thp)
t0 = (t + HUGE - 1) & ~(HUGE - 1)
madv(t0, 4 * HUGE, 14)                       # MADV_HUGEPAGE
_ = thp[t0 - t + 5]                          # huge zero page (THP with use_zero_page)
thp[t0 - t + 2 * HUGE] = 1                   # a real huge page (or one small page)
print(a, addr(fm), t0, int(guard), flush=True)
sys.stdin.read()
"""


@pytest.fixture
def child(tmp_path: Path) -> Iterator[tuple[int, int, int, int, bool]]:
    data = tmp_path / "file"
    data.write_bytes(bytes(range(256)) * (8 * P // 256))
    p = subprocess.Popen([sys.executable, "-c", CHILD, str(data)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout is not None
        a, fm, t0, guard = (int(x) for x in p.stdout.readline().split())
        yield p.pid, a, fm, t0, bool(guard)
    finally:
        p.kill()
        p.wait()


def pages(ranges: list[tuple[int, int]], base: int) -> set[int]:
    return {(x - base) // P for s, e in ranges for x in range(s, e, P)}


SELECTIONS = [
    (PAGE_IS_PRESENT | PAGE_IS_SWAPPED, PAGE_IS_PFNZERO),                 # anonymous private data
    (PAGE_IS_PRESENT | PAGE_IS_SWAPPED, PAGE_IS_PFNZERO | PAGE_IS_FILE),  # private file: COWed only
    (PAGE_IS_PRESENT, 0),
    (PAGE_IS_SWAPPED, 0),
    (PAGE_IS_PFNZERO, 0),
    (PAGE_IS_FILE, 0),
    (PAGE_IS_GUARD, 0),
    (0, PAGE_IS_PRESENT),                                                  # not present: inverted
]


@needs_root
def test_the_fallback_finds_what_the_child_did(child: tuple[int, int, int, int, bool]) -> None:
    pid, a, fm, t0, guard = child
    assert memory.pfns_shown(), "pagemap shows PFNs to CAP_SYS_ADMIN: the zero page can be told apart"
    mem = TaskMemory(pid)
    try:
        data = mem.scan_pagemap(a, a + 64 * P, PAGE_IS_PRESENT | PAGE_IS_SWAPPED, PAGE_IS_PFNZERO)
        # a guard marker is a swap entry to both interfaces (guards are refused before this scan)
        assert pages(data, a) == {0, 1, 2, 3, 12, 14, 16, 17, 40} | ({50} if guard else set())
        zero = mem.scan_pagemap(a, a + 64 * P, PAGE_IS_PFNZERO, 0)
        assert pages(zero, a) == {8, 9, 10, 11, 13, 41}
        cowed = mem.scan_pagemap(fm, fm + 8 * P, PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
                                 PAGE_IS_PFNZERO | PAGE_IS_FILE)
        assert pages(cowed, fm) == {2}
        assert {0, 1} <= pages(mem.scan_pagemap(fm, fm + 8 * P, PAGE_IS_FILE, 0), fm)
        thp = mem.scan_pagemap(t0, t0 + 4 * HUGE, PAGE_IS_PRESENT | PAGE_IS_SWAPPED, PAGE_IS_PFNZERO)
        assert 1024 in pages(thp, t0) and not pages(thp, t0) & set(range(512))
    finally:
        mem.close()


@needs_root
def test_both_paths_give_the_same_ranges(child: tuple[int, int, int, int, bool]) -> None:
    pid, a, _, t0, guard = child
    mem = TaskMemory(pid)
    try:
        try:
            mem.scan_ioctl(a, a + P, PAGE_IS_PRESENT, 0)
        except OSError:
            pytest.skip("no PAGEMAP_SCAN on this kernel: nothing to compare the fallback with")
        compared = 0
        for v in proc.vmas(pid):
            if v.path in ("[vsyscall]", "[vvar]", "[vvar_vclock]", "[vdso]"):
                continue
            for anyof, exclude in SELECTIONS:
                want = mem.scan_ioctl(v.start, v.end, anyof, exclude)
                got = mem.scan_pagemap(v.start, v.end, anyof, exclude)
                assert got == want, (f"{v.start:#x}-{v.end:#x} {v.path}: anyof {anyof:#x} exclude "
                                     f"{exclude:#x}")
                compared += len(want)
        assert compared > 10
        if guard and mem.scan_ioctl(a, a + 64 * P, PAGE_IS_GUARD, 0):
            assert mem.scan_pagemap(a, a + 64 * P, PAGE_IS_GUARD, 0) == [(a + 50 * P, a + 51 * P)]
        # THP: the huge zero page is the zero page for both (or a small zero page without THP)
        assert mem.scan_ioctl(t0, t0 + HUGE, PAGE_IS_PFNZERO, 0) == mem.scan_pagemap(
            t0, t0 + HUGE, PAGE_IS_PFNZERO, 0) != []
    finally:
        mem.close()


def test_swapped_pages_where_there_is_swap(child: tuple[int, int, int, int, bool]) -> None:
    pid, a, _, _, _ = child
    with open("/proc/swaps") as f:
        if len(f.readlines()) < 2:
            pytest.skip("no swap here: MADV_PAGEOUT cannot swap anonymous pages out")
    mem = TaskMemory(pid)
    try:
        assert pages(mem.scan_pagemap(a, a + 64 * P, PAGE_IS_SWAPPED, 0), a) == {16, 17}
    finally:
        mem.close()


def test_categories_the_pagemap_cannot_show_are_refused() -> None:
    mem = TaskMemory(os.getpid())
    try:
        assert mem.scan_pagemap(0, 0, PAGE_IS_SOFT_DIRTY, 0) == []
        with pytest.raises(ValueError, match="cannot be read"):
            mem.scan_pagemap(0, P, 1 << 6, 0)  # PAGE_IS_HUGE
        with pytest.raises(ValueError, match="cannot be read"):
            mem.scan_pagemap(0, P, 1 << 1, 0)  # PAGE_IS_WRITTEN
    finally:
        mem.close()


def test_the_environment_forces_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(memory.NO_PAGEMAP_SCAN_ENV, "1")
    use, why = memory.scan_path()
    assert not use and memory.NO_PAGEMAP_SCAN_ENV in why
