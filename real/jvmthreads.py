"""A JVM program with 4 worker threads and the main thread (real/progs/JThreads.java, compiled with javac at
the start when javac is there, else run by `java File.java`); no sockets: the JVM itself (its GC and
compiler threads, its code cache and CDS archive mappings, its signal handling) across C/R.

Mid-work: the workers wrote 300 more records. End: SIGTERM (the JVM's shutdown hook). Verified: each
worker's own sequence is gapless, the global numbers of all workers together are 1..N exactly once, the
main thread's ticks are gapless, done.txt has the same totals, and the JVM wrote nothing on stderr.
"""

import subprocess
from pathlib import Path

from zdtm.real import Real, command, gapless, lines

SOURCE = Path(__file__).resolve().parent / "progs" / "JThreads.java"
WORKERS = 4
# hsperfdata in the JVM's memory, not in a file of /tmp: the JVM flock()s that file and keeps the lock
# through its mapping only (the fd closed), which the engine refuses (static/flock_mmap00); and
# /tmp/hsperfdata_root/PID would be one file for the JVMs of parallel items (each container has its own
# pid 24). jps and jstat do not see the JVM then.
JVM_OPTS = ["-Xmx64m", "-Xss512k", "-XX:+PerfDisableSharedMem"]


def argv(wd: Path) -> list[str]:
    java = command("java") or "java"
    javac = command("javac")
    if javac is None:  # the source launcher compiles it in memory
        return [java, *JVM_OPTS, str(SOURCE)]
    classes = wd / "classes"
    subprocess.run([javac, "-d", str(classes), str(SOURCE)], check=True, timeout=120, capture_output=True)
    return [java, *JVM_OPTS, "-cp", str(classes), "JThreads"]


def progress(wd: Path) -> int:
    return sum(len(lines(wd / f"worker{k}.txt")) for k in range(WORKERS))


def verify(wd: Path) -> list[str]:
    problems: list[str] = []
    totals: list[int] = []
    for k in range(WORKERS):
        recs = [[int(x) for x in ln.split()] for ln in lines(wd / f"worker{k}.txt")]
        if not recs:
            problems.append(f"worker{k}.txt is empty")
        problems += gapless((r[0] for r in recs), f"worker{k}.txt seq")
        totals += [r[1] for r in recs]
    problems += gapless(sorted(totals), "the workers' global numbers")
    ticks = [int(t) for t in lines(wd / "main.txt")]
    problems += gapless(ticks, "main.txt")
    expected = [f"done {len(totals)} {len(ticks)}"]
    if lines(wd / "done.txt") != expected:
        problems.append(f"done.txt: {lines(wd / 'done.txt')!r}, expected {expected!r}")
    said = [ln for ln in lines(wd / "jvmthreads.stderr") if not ln.startswith("$ ")]
    if said:
        problems.append(f"jvmthreads.stderr: {said[:3]!r}")
    return problems


PROGRAM = Real(
    argv=argv,
    progress=progress,
    verify=verify,
    mid_work=300,
    needs=("java",),
    stop="SIGTERM",
    timeout=60,
)
