"""A small threaded JVM server (real/progs/JCounter.java, compiled with javac at the start when javac is
there, else run by `java File.java`): 4 counter threads, a socket server with a pool of 2 handler threads
and a key-value store in memory, on a port chosen free at the start.

Every client round k (after the start, before each dump, after each restore), in one connection: the 50
keys of each earlier round have their values, the store has exactly those keys, every counter thread
counted on since the last round (the threads run after a restore); then round k's 50 keys are put.
End: SIGTERM (the JVM's shutdown hook). Verified: every round passed in order (client.txt), done.txt has
the number of puts, and the JVM wrote nothing on stderr.
"""

import socket
import subprocess
from pathlib import Path

from zdtm.real import Real, command, free_port, lines, wait_tcp_idle

SOURCE = Path(__file__).resolve().parent / "progs" / "JCounter.java"
KEYS = 50  # put per round
# hsperfdata in the JVM's memory, not in a file of /tmp: the JVM flock()s that file and keeps the lock
# through its mapping only (the fd closed), which the engine refuses (static/flock_mmap00); and
# /tmp/hsperfdata_root/PID would be one file for the JVMs of parallel items (each container has its own
# pid 24). jps and jstat do not see the JVM then.
JVM_OPTS = ["-Xmx64m", "-Xss512k", "-XX:+PerfDisableSharedMem"]


def argv(wd: Path) -> list[str]:
    port = free_port()
    (wd / "port").write_text(f"{port}\n")
    java = command("java") or "java"
    javac = command("javac")
    if javac is None:  # the source launcher compiles it in memory
        return [java, *JVM_OPTS, str(SOURCE), str(port)]
    classes = wd / "classes"
    subprocess.run([javac, "-d", str(classes), str(SOURCE)], check=True, timeout=120, capture_output=True)
    return [java, *JVM_OPTS, "-cp", str(classes), "JCounter", str(port)]


def port(wd: Path) -> int:
    return int((wd / "port").read_text())


def value(k: int, i: int) -> str:
    return f"j{k}.{i}." + "z" * ((k * 17 + i * 3) % 40)


def client(wd: Path, k: int) -> list[str]:
    problems: list[str] = []
    conn = socket.create_connection(("127.0.0.1", port(wd)), timeout=10.0)
    # the file object holds the socket open too: closed both, the connection ends
    with conn, conn.makefile("rw", encoding="utf-8", newline="\n") as f:

        def ask(cmd: str) -> str:
            f.write(cmd + "\n")
            f.flush()
            return f.readline().rstrip("\n")

        for j in range(k):
            for i in range(KEYS):
                got = ask(f"get r{j}:{i}")
                if got != value(j, i):
                    problems.append(f"get r{j}:{i}: {got!r}, expected {value(j, i)!r}")
        size = ask("size")
        if size != str(k * KEYS):
            problems.append(f"size: {size!r}, expected {k * KEYS}")
        counts = [int(c) for c in ask("stat").split()]
        rounds = [ln.split() for ln in lines(wd / "client.txt")]
        before = [int(c) for c in rounds[-1][1:]] if rounds else [0] * 4
        if len(counts) != 4 or any(c <= b for c, b in zip(counts, before, strict=False)):
            problems.append(f"counter threads: {counts}, they were {before} at the last round (one stopped)")
        if problems:
            return problems[:10]
        for i in range(KEYS):
            got = ask(f"put r{k}:{i} {value(k, i)}")
            if got != "ok":
                return [f"put r{k}:{i}: {got!r}"]
    problems = wait_tcp_idle(port(wd))
    if not problems:
        with open(wd / "client.txt", "a") as out:
            out.write(f"{k} {' '.join(map(str, counts))}\n")
    return problems


def verify(wd: Path) -> list[str]:
    problems = []
    rounds = [ln.split() for ln in lines(wd / "client.txt")]
    if [r[0] for r in rounds] != [str(j) for j in range(len(rounds))] or len(rounds) < 2:
        problems.append(f"client.txt: rounds {[r[0] for r in rounds]}, expected 0, 1, ... (at least 2)")
    expected = [f"done {len(rounds) * KEYS}"]
    if lines(wd / "done.txt") != expected:
        problems.append(f"done.txt: {lines(wd / 'done.txt')!r}, expected {expected!r}")
    said = [ln for ln in lines(wd / "jvmcounter.stderr") if not ln.startswith("$ ")]
    if said:
        problems.append(f"jvmcounter.stderr: {said[:3]!r}")
    return problems


PROGRAM = Real(
    argv=argv,
    ready=lambda wd: (wd / "listening").exists(),
    client=client,
    verify=verify,
    needs=("java",),
    stop="SIGTERM",
    timeout=60,
)
