"""Dump/restore throughput of a process with N MiB of touched anonymous memory, against this machine's limits.

Run as root from the repository root (on demand, never in the test suite):

    python3 bench/memory.py [--mib N] [--repeat R] [--dir D] [--json] [--keep]

Each repeat starts a fresh target (bench/memtarget.c, compiled here with gcc into the work dir) that
maps N MiB, writes a non-zero position-dependent pattern into every word and waits. Then, in order:

1. write limit: N MiB from a pre-touched anonymous buffer to a new file next to the images, with
   write(2) and with ftruncate+mmap(MAP_SHARED)+memcpy (the way the engine writes pages-*.img);
2. `stasis dump` of the target, timed as a whole process, plus the engine's own "done in" figure;
3. fill limit: N MiB of fresh anonymous memory filled from the (page-cached) pages image, with
   preadv and with mmap(MAP_PRIVATE)+memcpy;
4. `stasis restore -d --pidfile`, timed until the pidfile exists, plus the engine's own figures;
5. the restored target must be alive at its old PID and its memory intact: on SIGUSR1 it checks every
   word against the pattern; then one word is corrupted through /proc/PID/mem and the check must fail
   (a bench that cannot see corruption proves nothing).

Everything lives in one work dir (under --dir, default the system temp dir), removed at the end
unless --keep; every process started is killed and reaped by its PID, on failure too.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import mmap
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from procs import BenchError, Procs, alive, log_seconds, wait_line

REPO = Path(__file__).resolve().parent.parent
TARGET_SRC = Path(__file__).resolve().parent / "memtarget.c"
MIB = 1 << 20
PAGE = mmap.PAGESIZE
PR_SET_CHILD_SUBREAPER = 36

libc = ctypes.CDLL(None, use_errno=True)
libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                      ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]


DONE = r"(?:\(\d+ processes\) )?done in ([0-9.]+) s"  # the engine's own timing line



# -- helpers ----------------------------------------------------------------------------------------

def build_target(workdir: Path) -> Path:
    exe = workdir / "memtarget"
    subprocess.run(["gcc", "-O2", "-Wall", "-o", str(exe), str(TARGET_SRC)], check=True)
    return exe


def touched_buffer(nbytes: int) -> mmap.mmap:
    """Anonymous memory, every page touched, non-zero and varying (like the target's)."""
    buf = mmap.mmap(-1, nbytes)
    block = os.urandom(MIB)
    view = memoryview(buf)
    for off in range(0, nbytes, MIB):
        n = min(MIB, nbytes - off)
        view[off:off + n] = block[:n]
    view.release()
    return buf


def resident_fraction(path: Path) -> float:
    """Fraction of the file's pages in the page cache (mincore), without reading it."""
    size = path.stat().st_size
    if size == 0:
        return 1.0
    fd = os.open(path, os.O_RDONLY)
    try:
        addr = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        if addr in (None, ctypes.c_void_p(-1).value):
            raise OSError(ctypes.get_errno(), "mmap")
        try:
            npages = (size + PAGE - 1) // PAGE
            vec = (ctypes.c_ubyte * npages)()
            if libc.mincore(addr, size, vec) != 0:
                raise OSError(ctypes.get_errno(), "mincore")
            return sum(v & 1 for v in bytes(vec)) / npages
        finally:
            libc.munmap(addr, size)
    finally:
        os.close(fd)


def write_limit(buf: mmap.mmap, directory: Path) -> dict[str, float]:
    """Seconds to put the buffer's bytes into a new file in `directory`, two ways (no fsync: dump doesn't)."""
    size = len(buf)
    out: dict[str, float] = {}
    path = directory / "write-limit.tmp"
    src = memoryview(buf)
    try:
        t0 = time.perf_counter()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        off = 0
        while off < size:
            off += os.write(fd, src[off:])
        os.close(fd)
        out["write"] = time.perf_counter() - t0
        path.unlink()

        t0 = time.perf_counter()
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        os.ftruncate(fd, size)
        with mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE) as m:
            dst = memoryview(m)
            dst[:] = src
            dst.release()
        os.close(fd)
        out["mmap"] = time.perf_counter() - t0
    finally:
        src.release()
        path.unlink(missing_ok=True)
    return out


def fill_limit(image: Path, size: int) -> dict[str, float]:
    """Seconds to fill `size` bytes of fresh anonymous memory from the image file, two ways."""
    out: dict[str, float] = {}
    fd = os.open(image, os.O_RDONLY | os.O_CLOEXEC)
    try:
        t0 = time.perf_counter()
        anon = mmap.mmap(-1, size)
        off = 0
        with memoryview(anon) as dst:
            while off < size:
                n = os.preadv(fd, [dst[off:]], off)
                if n <= 0:
                    raise BenchError(f"{image}: short read at {off}")
                off += n
        out["preadv"] = time.perf_counter() - t0
        anon.close()

        # Faults taken by the kernel up front (MAP_POPULATE), not one exception per page: the
        # engine's process_vm_writev into the target faults through GUP the same way.
        t0 = time.perf_counter()
        anon = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | mmap.MAP_POPULATE)
        off = 0
        with memoryview(anon) as dst:
            while off < size:
                n = os.preadv(fd, [dst[off:]], off)
                if n <= 0:
                    raise BenchError(f"{image}: short read at {off}")
                off += n
        out["populate"] = time.perf_counter() - t0
        anon.close()

        t0 = time.perf_counter()
        anon = mmap.mmap(-1, size)
        with mmap.mmap(fd, size, mmap.MAP_PRIVATE, mmap.PROT_READ) as src, \
                memoryview(anon) as dst, memoryview(src) as s:
            dst[:] = s
        out["mmap"] = time.perf_counter() - t0
        anon.close()
    finally:
        os.close(fd)
    return out


def best_of(times: int, measure: Callable[[], dict[str, float]]) -> dict[str, float]:
    """Each way's best time over a few attempts: the limit is what the machine can do, not its noise."""
    best: dict[str, float] = {}
    for _ in range(times):
        for way, sec in measure().items():
            best[way] = min(sec, best.get(way, sec))
    return best




def log_stage(log: Path, pid: int, stage: str, after: str) -> float | None:
    """Seconds between two stage lines ("pid N: stage") of a -v4 engine log."""
    stamps: dict[str, float] = {}
    if not log.exists():
        return None
    for line in log.read_text(errors="replace").splitlines():
        m = re.match(rf"\(\s*([0-9.]+)\) pid {pid}: (\S+)$", line)
        if m:
            stamps.setdefault(m.group(2), float(m.group(1)))
    if stage in stamps and after in stamps:
        return stamps[after] - stamps[stage]
    return None


def stasis(args: list[str], procs: Procs, cwd: Path) -> subprocess.Popen[bytes]:
    with open(cwd / "stasis.out", "ab") as out:
        p = subprocess.Popen([sys.executable, "-m", "engine", *args], cwd=REPO, stdin=subprocess.DEVNULL,
                             stdout=out, stderr=subprocess.STDOUT)
    procs.add(p.pid)
    return p






# -- one cycle ----------------------------------------------------------------------------------------

def cycle(n: int, exe: Path, work: Path, buf: mmap.mmap, procs: Procs, verbosity: int,
          progress: bool) -> dict[str, Any]:
    size = n * MIB
    slow = 30 + size / (100 * MIB)  # generous timeouts, even for a slow machine
    images = work / "images"
    images.mkdir()
    tlog = work / "target.log"
    tlog.write_bytes(b"")
    r: dict[str, Any] = {"mib": n}

    def note(msg: str) -> None:
        if progress:
            print(f"  {msg}", file=sys.stderr, flush=True)

    note("starting the target")
    with open(os.devnull, "rb") as null, open(tlog, "ab") as out:
        target = subprocess.Popen([str(exe), str(n)], cwd=work, stdin=null, stdout=out, stderr=out,
                                  start_new_session=True)
    procs.add(target.pid)
    pid = target.pid
    ready = wait_line(tlog, "ready ", 1, slow).split()
    addr, sum0 = int(ready[1], 16), ready[3]

    note("write limit")
    r["write_limit_s"] = best_of(2, lambda: write_limit(buf, images.parent))

    note("dump")
    dlog = "dump.log"
    t0 = time.perf_counter()
    p = stasis(["dump", "-t", str(pid), "-D", str(images), "-o", dlog, f"-v{verbosity}"], procs, work)
    rc = p.wait(timeout=slow * 4)
    r["dump_wall_s"] = time.perf_counter() - t0
    procs.pids.discard(p.pid)
    if rc != 0:
        raise BenchError(f"stasis dump exited {rc}; see {images / dlog}")
    r["dump_engine_s"] = log_seconds(images / dlog, r"dump of \d+ " + DONE)
    status = procs.reap(pid, sig=None)  # the dump killed it: reap so the PID is free for restore
    if status is None or not os.WIFSIGNALED(status):
        raise BenchError(f"the target did not die from the dump (status {status})")

    pages = sorted(images.glob("pages-*.img"))
    if not pages:
        raise BenchError(f"no pages image in {images}")
    image = max(pages, key=lambda x: x.stat().st_size)
    r["image_bytes"] = image.stat().st_size
    r["image_cached_before_fill_limit"] = resident_fraction(image)

    note("fill limit")
    r["fill_limit_s"] = best_of(2, lambda: fill_limit(image, min(size, r["image_bytes"])))
    r["image_cached_at_restore"] = resident_fraction(image)

    note("restore")
    pidfile = work / "restore.pid"
    rlog = "restore.log"
    t0 = time.perf_counter()
    p = stasis(["restore", "-D", str(images), "-o", rlog, f"-v{verbosity}", "-d", "--pidfile", str(pidfile)],
               procs, work)
    deadline = time.monotonic() + slow * 4
    while not pidfile.exists():
        if p.poll() is not None and not pidfile.exists():
            raise BenchError(f"stasis restore exited {p.returncode} without a pidfile; see {images / rlog}")
        if time.monotonic() > deadline:
            raise BenchError("stasis restore did not write its pidfile in time")
        time.sleep(0.0005)
    r["restore_wall_s"] = time.perf_counter() - t0
    rc = p.wait(timeout=slow)
    r["restore_exit_s"] = time.perf_counter() - t0
    procs.pids.discard(p.pid)
    new_pid = int(pidfile.read_text())
    procs.add(new_pid)  # reparented to us (subreaper) once the engine exits
    if rc != 0:
        raise BenchError(f"stasis restore exited {rc}; see {images / rlog}")
    r["restore_engine_s"] = log_seconds(images / rlog, r"restore of \d+ " + DONE)
    r["restore_pages_stage_s"] = log_stage(images / rlog, new_pid, "pages", "protections")

    note("checking the restored target")
    if new_pid != pid:
        raise BenchError(f"restored at pid {new_pid}, not {pid}")
    if not alive(pid):
        raise BenchError(f"restored pid {pid} is not alive")
    os.kill(pid, signal.SIGUSR1)
    verdict = wait_line(tlog, "verify ", 1, slow).split()
    r["intact"] = verdict[1] == "ok" and verdict[2] == sum0
    if not r["intact"]:
        raise BenchError(f"restored memory is corrupt: {' '.join(verdict)} (expected sum {sum0})")
    # The detector itself: one flipped word must be caught.
    with open(f"/proc/{pid}/mem", "r+b", buffering=0) as mem:
        mem.seek(addr + size // 2)
        word = mem.read(8)
        mem.seek(addr + size // 2)
        mem.write(bytes(b ^ 0xFF for b in word))
    os.kill(pid, signal.SIGUSR1)
    verdict = wait_line(tlog, "verify ", 2, slow).split()
    r["detector_ok"] = verdict[1] == "BAD" and verdict[2] == "1"
    if not r["detector_ok"]:
        raise BenchError(f"a corrupted word went unnoticed: {' '.join(verdict)}")
    procs.reap(pid)
    return r


# -- report ------------------------------------------------------------------------------------------

def summarize(n: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    def med(key: str, sub: str | None = None) -> float | None:
        vals = [(x[key][sub] if sub else x[key]) for x in runs]
        vals = [v for v in vals if v is not None]
        return statistics.median(vals) if vals else None

    def rate(sec: float | None) -> float | None:
        return n / sec if sec else None

    s: dict[str, Any] = {"mib": n, "repeats": len(runs)}
    s["write_limit_write_mibs"] = rate(med("write_limit_s", "write"))
    s["write_limit_mmap_mibs"] = rate(med("write_limit_s", "mmap"))
    s["write_limit_mibs"] = max(s["write_limit_write_mibs"], s["write_limit_mmap_mibs"])
    s["fill_limit_preadv_mibs"] = rate(med("fill_limit_s", "preadv"))
    s["fill_limit_mmap_mibs"] = rate(med("fill_limit_s", "mmap"))
    s["fill_limit_populate_mibs"] = rate(med("fill_limit_s", "populate"))
    s["fill_limit_mibs"] = max(s["fill_limit_preadv_mibs"], s["fill_limit_mmap_mibs"],
                               s["fill_limit_populate_mibs"])
    for k in ("dump_wall", "dump_engine", "restore_wall", "restore_engine", "restore_pages_stage"):
        s[k + "_s"] = med(k + "_s")
        s[k + "_mibs"] = rate(s[k + "_s"])
    s["dump_ratio"] = s["dump_wall_mibs"] / s["write_limit_mibs"]
    s["dump_engine_ratio"] = (s["dump_engine_mibs"] or 0) / s["write_limit_mibs"]
    s["restore_ratio"] = s["restore_wall_mibs"] / s["fill_limit_mibs"]
    s["restore_engine_ratio"] = (s["restore_engine_mibs"] or 0) / s["fill_limit_mibs"]
    s["restore_pages_ratio"] = (s["restore_pages_stage_mibs"] or 0) / s["fill_limit_mibs"]
    s["image_cached_at_restore"] = min(x["image_cached_at_restore"] for x in runs)
    s["intact"] = all(x["intact"] and x["detector_ok"] for x in runs)
    s["runs"] = runs
    return s


def table(s: dict[str, Any]) -> str:
    def f(v: float | None, fmt: str) -> str:
        width = int(fmt.split(".")[0])
        return f"{'-':>{width}}" if v is None else format(v, fmt)

    n = s["mib"]
    rows = [
        ("write limit: write(2)", s["write_limit_write_mibs"], None, ""),
        ("write limit: mmap+memcpy", s["write_limit_mmap_mibs"], None, ""),
        ("dump (whole stasis process)", s["dump_wall_mibs"], s["dump_ratio"], "goal >= 0.70"),
        ("dump (engine's own figure)", s["dump_engine_mibs"], s["dump_engine_ratio"], ""),
        ("fill limit: preadv", s["fill_limit_preadv_mibs"], None, ""),
        ("fill limit: mmap+memcpy", s["fill_limit_mmap_mibs"], None, ""),
        ("fill limit: MAP_POPULATE+preadv", s["fill_limit_populate_mibs"], None, ""),
        ("restore (until pidfile)", s["restore_wall_mibs"], s["restore_ratio"], "goal >= 0.70"),
        ("restore (engine's own figure)", s["restore_engine_mibs"], s["restore_engine_ratio"], ""),
        ("restore: pages stage only", s["restore_pages_stage_mibs"], s["restore_pages_ratio"], ""),
    ]
    secs = {
        "dump (whole stasis process)": s["dump_wall_s"],
        "dump (engine's own figure)": s["dump_engine_s"],
        "restore (until pidfile)": s["restore_wall_s"],
        "restore (engine's own figure)": s["restore_engine_s"],
        "restore: pages stage only": s["restore_pages_stage_s"],
    }
    lines = [f"{n} MiB, median of {s['repeats']} run(s); image page-cached at restore: "
             f"{s['image_cached_at_restore']:.0%}; restored memory intact: {'yes' if s['intact'] else 'NO'}",
             f"{'':32}{'MiB/s':>9}{'seconds':>9}{'ratio':>8}"]
    for name, mibs, ratio, goal in rows:
        sec = secs.get(name, n / mibs if mibs else None)
        lines.append(f"{name:32}{f(mibs, '9.0f')}{f(sec, '9.3f')}{f(ratio, '8.2f')}  {goal}".rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mib", type=int, default=1024, help="anonymous memory of the target (default 1024)")
    ap.add_argument("--repeat", type=int, default=1, help="cycles to run; figures are medians")
    ap.add_argument("--dir", help="parent of the work dir (images, limit files): the filesystem to test")
    ap.add_argument("--json", action="store_true", help="also print the figures as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (logs, last images)")
    ap.add_argument("-v", "--verbosity", type=int, default=4, help="engine log level (default 4)")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("bench: run as root (dump and restore need CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE)")
        return 1
    if args.mib < 1 or args.repeat < 1:
        ap.error("--mib and --repeat must be positive")
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # the restored target is reparented to us
    progress = sys.stderr.isatty()
    procs = Procs()
    work = Path(tempfile.mkdtemp(prefix="stasis-bench-", dir=args.dir))
    runs: list[dict[str, Any]] = []
    try:
        exe = build_target(work)
        with touched_buffer(args.mib * MIB) as buf:
            for i in range(args.repeat):
                if progress:
                    print(f"run {i + 1}/{args.repeat} ({args.mib} MiB)", file=sys.stderr, flush=True)
                for leftover in ("images", "target.log", "restore.pid"):
                    path = work / leftover
                    if path.is_dir():
                        shutil.rmtree(path)
                    else:
                        path.unlink(missing_ok=True)
                runs.append(cycle(args.mib, exe, work, buf, procs, args.verbosity, progress))
    except (BenchError, subprocess.SubprocessError, OSError) as exc:
        print(f"bench: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        procs.cleanup()
        if args.keep:
            print(f"bench: work dir kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    s = summarize(args.mib, runs)
    print(table(s))
    if args.json:
        print(json.dumps(s, indent=2))
    return 0 if s["intact"] else 1


if __name__ == "__main__":
    sys.exit(main())
