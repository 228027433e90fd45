"""What the /proc/PID/pagemap fallback costs against PAGEMAP_SCAN, on one big process.

Run as root from the repository root, with the engine built in place (tox builds it), on demand:

    python3 bench/pagemap.py [--mib N] [--reserve-gib G] [--repeat R] [--json]

A child (Python, mmap) maps N MiB of private anonymous memory and writes one page of every 4 in
runs of 8 written / 8 read-only touched (zero page) / 16 untouched pages, and reserves G GiB of
PROT_NONE address space it never touches (as runtimes do). Both paths of TaskMemory.scan scan every
VMA with the selection the engine's dump makes (present or swapped, not the zero page); the best of R
runs of each is reported, the ranges of both must be equal (else the bench fails).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import proc  # noqa: E402
from engine.abi.consts import PAGE_IS_PFNZERO, PAGE_IS_PRESENT, PAGE_IS_SWAPPED  # noqa: E402
from engine.compel.memory import TaskMemory  # noqa: E402

CHILD = r"""
import mmap, sys
P = mmap.PAGESIZE
n = int(sys.argv[1]) << 20
m = mmap.mmap(-1, n, flags=mmap.MAP_PRIVATE)
for base in range(0, n, 32 * P):
    for i in range(8):
        m[base + i * P] = 1
    for i in range(8, 16):
        _ = m[base + i * P]
if int(sys.argv[2]):
    r = mmap.mmap(-1, int(sys.argv[2]) << 30, flags=mmap.MAP_PRIVATE | 0x4000, prot=0)  # MAP_NORESERVE
print("ready", flush=True)
sys.stdin.read()
"""


def scan_all(mem: TaskMemory, pid: int, ioctl: bool, as_dump: bool) -> tuple[float, list[tuple[int, int]]]:
    """Every VMA scanned (as_dump: not those smaps shows no Rss or Swap in, as mm.dump skips them)."""
    out: list[tuple[int, int]] = []
    t0 = time.perf_counter()
    for v in proc.vmas(pid):
        if v.path in ("[vsyscall]", "[vvar]", "[vvar_vclock]", "[vdso]"):
            continue
        if as_dump and v.rss_kb == 0 and v.swap_kb == 0:
            continue
        scan = mem.scan_ioctl if ioctl else mem.scan_pagemap
        out += scan(v.start, v.end, PAGE_IS_PRESENT | PAGE_IS_SWAPPED, PAGE_IS_PFNZERO)
    return time.perf_counter() - t0, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=int, default=2048)
    ap.add_argument("--reserve-gib", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    p = subprocess.Popen([sys.executable, "-c", CHILD, str(args.mib), str(args.reserve_gib)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        mem = TaskMemory(p.pid)
        try:
            res: dict[str, float] = {}
            ranges = {}
            for name, ioctl, as_dump in (("pagemap_scan", True, False), ("pagemap_read", False, False),
                                         ("pagemap_scan_as_dump", True, True),
                                         ("pagemap_read_as_dump", False, True)):
                best = None
                for _ in range(args.repeat):
                    took, ranges[name] = scan_all(mem, p.pid, ioctl, as_dump)
                    best = took if best is None else min(best, took)
                assert best is not None
                res[name] = best
            # the biggest VMA alone (the reservation): what a big untouched VMA costs each path
            big = max(proc.vmas(p.pid), key=lambda v: v.size)
            t0 = time.perf_counter()
            mem.scan_pagemap(big.start, big.end, PAGE_IS_PRESENT | PAGE_IS_SWAPPED, PAGE_IS_PFNZERO)
            res["pagemap_read_biggest_vma"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            mem.scan_ioctl(big.start, big.end, PAGE_IS_PRESENT | PAGE_IS_SWAPPED, PAGE_IS_PFNZERO)
            res["pagemap_scan_biggest_vma"] = time.perf_counter() - t0
        finally:
            mem.close()
    finally:
        p.kill()
        p.wait()
    if len({tuple(r) for r in ranges.values()}) != 1:
        print("FAIL: the two paths gave different ranges", file=sys.stderr)
        return 1
    nranges = len(ranges["pagemap_scan"])
    data = sum(e - s for s, e in ranges["pagemap_scan"]) >> 20
    if args.json:
        print(json.dumps({"mib": args.mib, "reserve_gib": args.reserve_gib, "ranges": nranges,
                          "data_mib": data, **res}))
    else:
        print(f"{args.mib} MiB mapped ({data} MiB data in {nranges} ranges) + {args.reserve_gib} GiB "
              "reserved")
        for k, v in res.items():
            print(f"  {k:32} {v * 1000:9.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
