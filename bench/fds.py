"""Dump/restore time of one process holding 1,000 fds of mixed kinds (on demand, as root).

    python3 bench/fds.py [--n 1000 [N ...]] [--repeat R] [--cmd CMD] [--dir D] [--json] [--keep] [-v LEVEL]

The target (bench/fdtarget.c, compiled here with gcc) makes N fds (a multiple of 20) in units of 20:
4 regular files, 2 pipes with data, 3 eventfds (one EFD_SEMAPHORE), 2 timerfds, a signalfd, an epoll
with 5 registrations, an inotify with 2 watches, 2 memfds and a FIFO with data (both ends). Then each
repeat:

1. `CMD dump -t PID -D images -o dump.log -v4`, timed as a whole process, plus the engine's own
   "dump of PID ... done in X s" from its log;
2. `CMD restore -D images -o restore.log -v4 -d --pidfile F`, timed until the pidfile exists and the task
   is alive at its old PID, plus the engine's own "restore of PID ... done in X s";
3. the restored task must be intact: on SIGUSR1 it checks every fd's kind-specific state and must print
   "verify ok N"; then it is killed and reaped by PID.

Each repeat starts a fresh target in a fresh directory. Reported: medians (and min) of each figure and
the engine's time per fd. CMD defaults to "<this interpreter> -m engine" with this repository first on
PYTHONPATH (as bench/tiny.py, whose helpers this uses). Everything lives in one work dir, removed at the
end unless --keep; every process started is killed and reaped by its PID, on failure too.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tiny  # noqa: E402  (bench/tiny.py: processes, spawning, log figures)

SRC = Path(__file__).resolve().parent / "fdtarget.c"


def build_target(work: Path) -> Path:
    exe = work / "fdtarget"
    subprocess.run(["gcc", "-O2", "-Wall", "-o", str(exe), str(SRC)], check=True)
    return exe


def cycle(cmd: list[str], exe: Path, work: Path, n: int, procs: tiny.Procs, verbosity: int,
          env: dict[str, str]) -> dict[str, Any]:
    for leftover in ("t", "images"):
        shutil.rmtree(work / leftover, ignore_errors=True)
    tdir, images = work / "t", work / "images"
    tdir.mkdir()
    images.mkdir()
    tlog = work / "target.log"
    tlog.write_bytes(b"")
    (work / "restore.pid").unlink(missing_ok=True)
    r: dict[str, Any] = {}

    with open(os.devnull, "rb") as null, open(tlog, "ab") as out:
        target = subprocess.Popen([str(exe), str(n)], cwd=tdir, stdin=null, stdout=out, stderr=out,
                                  start_new_session=True)
    procs.add(target.pid)
    pid = target.pid
    ready = tiny.wait_line(tlog, "ready ", 1, 30).split()
    if ready[1:] != [str(n)]:
        raise tiny.BenchError(f"target said {' '.join(ready)!r}, expected 'ready {n}'")

    t0 = time.perf_counter()
    p = tiny.spawn([*cmd, "dump", "-t", str(pid), "-D", str(images), "-o", "dump.log", f"-v{verbosity}"],
                   procs, work / "stasis.out", env)
    rc, r["dump_cpu_s"] = tiny.wait_cpu(p, procs)
    r["dump_wall_s"] = time.perf_counter() - t0
    if rc != 0:
        raise tiny.BenchError(f"stasis dump exited {rc}; see {images / 'dump.log'}")
    r["dump_engine_s"] = tiny.log_seconds(images / "dump.log", r"dump of \d+ " + tiny.DONE)
    status = procs.reap(pid, sig=None)
    if status is None or not os.WIFSIGNALED(status):
        raise tiny.BenchError(f"the target did not die from the dump (status {status})")

    pidfile = work / "restore.pid"
    t0 = time.perf_counter()
    p = tiny.spawn([*cmd, "restore", "-D", str(images), "-o", "restore.log", f"-v{verbosity}", "-d",
                    "--pidfile", str(pidfile)], procs, work / "stasis.out", env)
    deadline = time.monotonic() + 120
    while True:
        new_pid = tiny.read_pidfile(pidfile)
        if new_pid is not None and tiny.alive(new_pid):
            break
        if p.poll() is not None and tiny.read_pidfile(pidfile) is None:
            procs.pids.discard(p.pid)
            raise tiny.BenchError(f"stasis restore exited {p.returncode} without a pidfile; "
                                  f"see {images / 'restore.log'}")
        if time.monotonic() > deadline:
            raise tiny.BenchError("stasis restore did not write its pidfile in time")
        time.sleep(0.0005)
    r["restore_wall_s"] = time.perf_counter() - t0
    procs.add(new_pid)  # reparented to us (subreaper) once the engine exits
    if p.returncode is None:
        rc, r["restore_cpu_s"] = tiny.wait_cpu(p, procs)
    else:
        procs.pids.discard(p.pid)
        rc, r["restore_cpu_s"] = p.returncode, None
    if rc != 0:
        raise tiny.BenchError(f"stasis restore exited {rc}; see {images / 'restore.log'}")
    r["restore_engine_s"] = tiny.log_seconds(images / "restore.log", r"restore of \d+ " + tiny.DONE)
    if new_pid != pid:
        raise tiny.BenchError(f"restored at pid {new_pid}, not {pid}")

    os.kill(pid, signal.SIGUSR1)
    got = tiny.wait_line(tlog, "verify ", 1, 30)
    if got != f"verify ok {n}":
        raise tiny.BenchError(f"restored task said {got!r}, expected 'verify ok {n}'")
    procs.reap(pid)
    return r


KEYS = ("dump_wall_s", "dump_engine_s", "dump_cpu_s", "restore_wall_s", "restore_engine_s", "restore_cpu_s")


def summarize(n: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    s: dict[str, Any] = {"fds": n, "repeats": len(runs), "load_average": os.getloadavg()[0]}
    for k in KEYS:
        vals = [x[k] for x in runs if x[k] is not None]
        s[k.removesuffix("_s") + "_ms"] = {"median": 1000 * statistics.median(vals) if vals else None,
                                           "min": 1000 * min(vals) if vals else None}
    for k in ("dump_engine_ms", "restore_engine_ms"):
        med = s[k]["median"]
        s[k.replace("_ms", "_us_per_fd")] = None if med is None else 1000 * med / n
    s["runs"] = runs
    return s


def table(rows: list[dict[str, Any]]) -> str:
    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:.0f}"

    out = [f"median (min) of {rows[0]['repeats']} run(s), ms; restored task verified every fd every time; "
           f"load average {rows[-1]['load_average']:.2f}",
           "| fds | dump | dump (engine) | restore | restore (engine) | engine µs/fd dump / restore |",
           "|--:|--:|--:|--:|--:|--:|"]
    for s in rows:
        cells = [f"{f(s[k]['median'])} ({f(s[k]['min'])})"
                 for k in ("dump_wall_ms", "dump_engine_ms", "restore_wall_ms", "restore_engine_ms")]
        out.append(f"| {s['fds']} | " + " | ".join(cells) +
                   f" | {f(s['dump_engine_us_per_fd'])} / {f(s['restore_engine_us_per_fd'])} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1000], help="fds in the target (multiples of 20)")
    ap.add_argument("--repeat", type=int, default=5, help="cycles per N (default 5); median and min")
    ap.add_argument("--cmd", default=f"{shlex.quote(sys.executable)} -m engine",
                    help="the engine's command line (default: this interpreter -m engine)")
    ap.add_argument("--dir", help="parent of the work dir (default the system temp dir)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (logs, last images)")
    ap.add_argument("-v", "--verbosity", type=int, default=4, help="engine log level (default 4)")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("bench: run as root (dump and restore need CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE)")
        return 1
    if args.repeat < 1 or any(n <= 0 or n % 20 for n in args.n):
        ap.error("--repeat must be positive, --n positive multiples of 20")
    cmd = shlex.split(args.cmd)
    ctypes.CDLL(None).prctl(tiny.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # the restored target comes back to us
    procs = tiny.Procs()
    env = tiny.engine_env(True)
    work = Path(tempfile.mkdtemp(prefix="stasis-bench-fds-", dir=args.dir))
    rows = []
    try:
        exe = build_target(work)
        cycle(cmd, exe, work, args.n[0], procs, args.verbosity, env)  # warm-up: bytecode and page cache
        for n in args.n:
            runs = []
            for i in range(args.repeat):
                runs.append(cycle(cmd, exe, work, n, procs, args.verbosity, env))
                if sys.stderr.isatty() and not args.json:
                    last = runs[-1]
                    print(f"{n} fds, run {i + 1}/{args.repeat}: dump {1000 * last['dump_wall_s']:.0f} ms, "
                          f"restore {1000 * last['restore_wall_s']:.0f} ms", file=sys.stderr, flush=True)
            rows.append(summarize(n, runs))
    except (tiny.BenchError, subprocess.SubprocessError, OSError) as exc:
        print(f"bench: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        procs.cleanup()
        if args.keep:
            print(f"bench: work dir kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(rows, indent=2) if args.json else table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
