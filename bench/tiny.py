"""Fixed cost of one dump and one restore: a sleeping 1-page C process, against interpreter start-up.

Run as root from the repository root (on demand, never in the test suite):

    python3 bench/tiny.py [--repeat R] [--cmd CMD] [--dir D] [--json] [--keep] [-v LEVEL]

Each repeat starts a fresh target (bench/tinytarget.c, compiled here with gcc into the work dir: one
page of data, waits in sigsuspend), then:

1. `CMD dump -t PID -D DIR -o dump.log`, timed as a whole process (interpreter start, imports, the
   work, exit), plus the engine's own "dump of PID ... done in X s" from its log;
2. `CMD restore -D DIR -d --pidfile F -o restore.log`, timed until the pidfile exists and the task is
   alive at its old PID, and until the engine exits, plus the engine's own "restore ... done in X s";
3. the restored task must work: on SIGUSR1 it prints "alive 1 TOKEN", the token and the counter coming
   from its one page of memory; then it is killed and reaped by PID;
4. baselines in the same run, interleaved with the cycles so load hits them alike: `python3 -c pass`
   and a fork+exec of /bin/true, both spawned the same way as the engine.

CMD defaults to "<this interpreter> -m engine"; the engine is the one of this repository (PYTHONPATH
is set to the repository root). Everything lives in one work dir, removed at the end unless --keep;
every process started is killed and reaped by its PID, on failure too.
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

from procs import BenchError, Procs, alive, log_seconds, wait_line

REPO = Path(__file__).resolve().parent.parent
TARGET_SRC = Path(__file__).resolve().parent / "tinytarget.c"
PR_SET_CHILD_SUBREAPER = 36
DONE = r"(?:\(\d+ processes\) )?done in ([0-9.]+) s"  # the engine's own timing line
GOAL_MS = 60.0



def build_target(workdir: Path) -> Path:
    exe = workdir / "tinytarget"
    subprocess.run(["gcc", "-O2", "-Wall", "-o", str(exe), str(TARGET_SRC)], check=True)
    return exe


def engine_env(bytecode_cache: bool) -> dict[str, str]:
    """This repository's engine first on the path; unless told otherwise, with the bytecode cache
    (__pycache__) on: an installed engine has its .pyc files, and PYTHONDONTWRITEBYTECODE=1 in the
    caller's environment would recompile every module on every run."""
    env = dict(os.environ)
    if bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    return env


def spawn(argv: list[str], procs: Procs, out: Path | None = None, env: dict[str, str] | None = None
          ) -> subprocess.Popen[bytes]:
    with open(out or os.devnull, "ab") as sink:
        p = subprocess.Popen(argv, cwd=REPO, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                             env=env)
    procs.add(p.pid)
    return p


def wait_cpu(p: subprocess.Popen[bytes], procs: Procs) -> tuple[int, float]:
    """Wait for p: its exit code and the CPU seconds (user + system) it used."""
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    procs.pids.discard(p.pid)
    return p.returncode, ru.ru_utime + ru.ru_stime


def timed_run(argv: list[str], procs: Procs, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Seconds from spawn to exit of argv (which must succeed), and its CPU seconds."""
    t0 = time.perf_counter()
    p = spawn(argv, procs, env=env)
    rc, cpu = wait_cpu(p, procs)
    sec = time.perf_counter() - t0
    if rc != 0:
        raise BenchError(f"{shlex.join(argv)} exited {rc}")
    return sec, cpu








def read_pidfile(path: Path) -> int | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    return int(text) if text.strip().isdigit() else None


def cycle(cmd: list[str], exe: Path, work: Path, procs: Procs, verbosity: int, env: dict[str, str]
          ) -> dict[str, Any]:
    images = work / "images"
    images.mkdir()
    tlog = work / "target.log"
    tlog.write_bytes(b"")
    r: dict[str, Any] = {}

    with open(os.devnull, "rb") as null, open(tlog, "ab") as out:
        target = subprocess.Popen([str(exe)], cwd=work, stdin=null, stdout=out, stderr=out,
                                  start_new_session=True)
    procs.add(target.pid)
    pid = target.pid
    token = wait_line(tlog, "ready ", 1, 10).split()[1]

    dlog = "dump.log"
    t0 = time.perf_counter()
    p = spawn([*cmd, "dump", "-t", str(pid), "-D", str(images), "-o", dlog, f"-v{verbosity}"], procs,
              work / "stasis.out", env)
    rc, r["dump_cpu_s"] = wait_cpu(p, procs)
    r["dump_wall_s"] = time.perf_counter() - t0
    if rc != 0:
        raise BenchError(f"stasis dump exited {rc}; see {images / dlog}")
    r["dump_engine_s"] = log_seconds(images / dlog, r"dump of \d+ " + DONE)
    status = procs.reap(pid, sig=None)  # the dump killed it: reap so the PID is free for restore
    if status is None or not os.WIFSIGNALED(status):
        raise BenchError(f"the target did not die from the dump (status {status})")

    pidfile = work / "restore.pid"
    rlog = "restore.log"
    t0 = time.perf_counter()
    p = spawn([*cmd, "restore", "-D", str(images), "-o", rlog, f"-v{verbosity}", "-d", "--pidfile",
               str(pidfile)], procs, work / "stasis.out", env)
    deadline = time.monotonic() + 60
    exited: tuple[int, float, float] | None = None  # (exit code, seconds, CPU seconds)
    while True:
        new_pid = read_pidfile(pidfile)
        if new_pid is not None and alive(new_pid):
            break
        if exited is None:
            got, status, ru = os.wait4(p.pid, os.WNOHANG)
            if got == p.pid:
                exited = (os.waitstatus_to_exitcode(status), time.perf_counter() - t0,
                          ru.ru_utime + ru.ru_stime)
                procs.pids.discard(p.pid)
        if exited is not None and read_pidfile(pidfile) is None:
            raise BenchError(f"stasis restore exited {exited[0]} without a pidfile; see {images / rlog}")
        if time.monotonic() > deadline:
            raise BenchError("stasis restore did not write its pidfile in time")
        time.sleep(0.0002)
    r["restore_wall_s"] = time.perf_counter() - t0
    procs.add(new_pid)  # reparented to us (subreaper) once the engine exits
    if exited is None:
        rc, r["restore_cpu_s"] = wait_cpu(p, procs)
        r["restore_exit_s"] = time.perf_counter() - t0
    else:
        rc, r["restore_exit_s"], r["restore_cpu_s"] = exited
    if rc != 0:
        raise BenchError(f"stasis restore exited {rc}; see {images / rlog}")
    r["restore_engine_s"] = log_seconds(images / rlog, r"restore of \d+ " + DONE)

    if new_pid != pid:
        raise BenchError(f"restored at pid {new_pid}, not {pid}")
    os.kill(pid, signal.SIGUSR1)
    got = wait_line(tlog, "alive ", 1, 10).split()
    if got[1:] != ["1", token]:
        raise BenchError(f"restored task answered {' '.join(got)!r}, expected 'alive 1 {token}'")
    procs.reap(pid)
    return r


def measure(args: argparse.Namespace, cmd: list[str], exe: Path, work: Path, procs: Procs
            ) -> list[dict[str, Any]]:
    env = engine_env(not args.no_bytecode_cache)
    runs = []
    for i in range(-1, args.repeat):  # run -1: warm-up (bytecode cache, page cache), not counted
        for leftover in ("images", "target.log", "restore.pid"):
            path = work / leftover
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        r = cycle(cmd, exe, work, procs, args.verbosity, env)
        r["python_pass_s"], r["python_pass_cpu_s"] = timed_run([sys.executable, "-c", "pass"], procs, env)
        r["bin_true_s"], _ = timed_run(["/bin/true"], procs, env)
        if i < 0:
            continue
        runs.append(r)
        if args.progress:
            print(f"run {i + 1}/{args.repeat}: dump {1000 * r['dump_wall_s']:.1f} ms, restore "
                  f"{1000 * r['restore_wall_s']:.1f} ms", file=sys.stderr, flush=True)
    return runs


KEYS = ("dump_wall_s", "dump_engine_s", "dump_cpu_s", "restore_wall_s", "restore_exit_s", "restore_engine_s",
        "restore_cpu_s", "python_pass_s", "python_pass_cpu_s", "bin_true_s")


def summarize(cmd: list[str], runs: list[dict[str, Any]], bytecode_cache: bool) -> dict[str, Any]:
    s: dict[str, Any] = {"cmd": shlex.join(cmd), "repeats": len(runs), "bytecode_cache": bytecode_cache,
                         "load_average": os.getloadavg()[0]}
    for k in KEYS:
        vals = [x[k] for x in runs if x[k] is not None]
        s[k.removesuffix("_s") + "_ms"] = {
            "median": 1000 * statistics.median(vals) if vals else None,
            "min": 1000 * min(vals) if vals else None,
        }
    py = s["python_pass_ms"]["median"]
    s["dump_per_python"] = s["dump_wall_ms"]["median"] / py
    s["restore_per_python"] = s["restore_wall_ms"]["median"] / py
    s["goal_ms"] = GOAL_MS
    s["goal_met"] = s["dump_wall_ms"]["median"] <= GOAL_MS and s["restore_wall_ms"]["median"] <= GOAL_MS
    s["runs"] = runs
    return s


def table(s: dict[str, Any]) -> str:
    def f(v: float | None) -> str:
        return f"{'-':>9}" if v is None else f"{v:9.1f}"

    rows = [
        ("dump (whole process)", "dump_wall_ms", f"goal <= {GOAL_MS:.0f}"),
        ("dump (engine's own figure)", "dump_engine_ms", ""),
        ("dump (CPU time, user+sys)", "dump_cpu_ms", ""),
        ("restore (pidfile + alive)", "restore_wall_ms", f"goal <= {GOAL_MS:.0f}"),
        ("restore (engine exited)", "restore_exit_ms", ""),
        ("restore (engine's own figure)", "restore_engine_ms", ""),
        ("restore (CPU time, to exit)", "restore_cpu_ms", ""),
        ("python3 -c pass", "python_pass_ms", ""),
        ("python3 -c pass (CPU time)", "python_pass_cpu_ms", ""),
        ("fork+exec /bin/true", "bin_true_ms", ""),
    ]
    lines = [f"{s['cmd']}: median/min of {s['repeats']} run(s); restored task worked every time",
             f"bytecode cache {'on' if s['bytecode_cache'] else 'off'}; load average {s['load_average']:.2f}",
             f"{'':32}{'median ms':>9}{'min ms':>9}"]
    for name, key, goal in rows:
        lines.append(f"{name:32}{f(s[key]['median'])}{f(s[key]['min'])}  {goal}".rstrip())
    fixed_d = s["dump_wall_ms"]["median"] - (s["dump_engine_ms"]["median"] or 0)
    fixed_r = s["restore_wall_ms"]["median"] - (s["restore_engine_ms"]["median"] or 0)
    lines.append(f"{'fixed cost (wall - engine)':32}{fixed_d:9.1f}{fixed_r:9.1f}  (dump, restore)")
    lines.append(f"ratios to python3 -c pass: dump {s['dump_per_python']:.2f}, "
                 f"restore {s['restore_per_python']:.2f}; goal {'met' if s['goal_met'] else 'NOT met'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=10, help="cycles to run (default 10); median and min")
    ap.add_argument("--cmd", default=f"{shlex.quote(sys.executable)} -m engine",
                    help="the engine's command line (default: this interpreter -m engine)")
    ap.add_argument("--dir", help="parent of the work dir (default the system temp dir)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (logs, last images)")
    ap.add_argument("--no-bytecode-cache", action="store_true",
                    help="keep PYTHONDONTWRITEBYTECODE from the environment (default: drop it)")
    ap.add_argument("-v", "--verbosity", type=int, default=4,
                    help="engine log level (default 4; >= 3 for the engine's own figures)")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("bench: run as root (dump and restore need CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE)")
        return 1
    if args.repeat < 1:
        ap.error("--repeat must be positive")
    args.progress = sys.stderr.isatty() and not args.json
    cmd = shlex.split(args.cmd)
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # the restored target is reparented to us
    procs = Procs()
    work = Path(tempfile.mkdtemp(prefix="stasis-bench-tiny-", dir=args.dir))
    try:
        exe = build_target(work)
        runs = measure(args, cmd, exe, work, procs)
    except (BenchError, subprocess.SubprocessError, OSError) as exc:
        print(f"bench: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        procs.cleanup()
        if args.keep:
            print(f"bench: work dir kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    s = summarize(cmd, runs, not args.no_bytecode_cache)
    print(json.dumps(s, indent=2) if args.json else table(s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
