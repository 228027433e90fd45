"""The demo: checkpoint a running Python interpreter, kill it, restore it, watch it go on.

The program is a plain `python3 -c` loop nobody wrote for Stasis: it keeps a counter and a running
hash in memory and appends one line per tick to a file. After restore it must continue with the
next number (no gap, no repeat), the same PID, and a hash that proves its memory came back intact.
Run: `python -m engine.demo` (as root; `tox -e demo` does it).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import time

PROGRAM = r"""
import hashlib, os, time
state = {"n": 0, "h": hashlib.sha256()}
ballast = bytearray(os.urandom(1 << 20)) * 8   # 8 MiB of state that must survive
with open("counter.txt", "a", buffering=1) as out:
    while True:
        state["n"] += 1
        state["h"].update(str(state["n"]).encode())
        digest = hashlib.md5(ballast).hexdigest()[:8]
        out.write(f"{state['n']} {os.getpid()} {state['h'].hexdigest()[:16]} {digest}\n")
        time.sleep(0.05)
"""

PR_SET_CHILD_SUBREAPER = 36


def _stasis(*args: str) -> None:
    cmd = [sys.executable, "-m", "engine", *args]
    print("$ stasis " + " ".join(args), flush=True)
    subprocess.run(cmd, check=True)


def _lines(path: str) -> list[str]:
    with open(path) as f:
        return f.read().splitlines()


def _wait_lines(path: str, n: int, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = _lines(path) if os.path.exists(path) else []
        if len(lines) >= n:
            return lines
        time.sleep(0.05)
    raise SystemExit(f"demo: the program wrote only {len(lines)} lines in {timeout} s")


def main() -> int:
    if os.geteuid() != 0:
        print("demo: run as root (checkpoint/restore needs CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE)")
        return 1
    # The restored process is re-parented to us when the engine exits; we reap it ourselves.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    work = tempfile.mkdtemp(prefix="stasis-demo-")
    images = os.path.join(work, "images")
    os.mkdir(images)
    out = os.path.join(work, "counter.txt")
    with open(os.devnull, "rb") as null, open(os.path.join(work, "python.log"), "wb") as log:
        child = subprocess.Popen([sys.executable, "-c", PROGRAM], cwd=work, stdin=null, stdout=log,
                                 stderr=log, start_new_session=True)
    pid = child.pid
    before = _wait_lines(out, 20)
    print(f"python3 running as pid {pid}; last line: {before[-1]}")

    _stasis("dump", "-t", str(pid), "-D", images, "-o", "dump.log", "-v4")
    child.wait()  # the dump killed it: reap it so its PID is free again
    frozen = _lines(out)
    print(f"dumped and killed; the file stops at: {frozen[-1]}")
    print(f"images: {', '.join(sorted(os.listdir(images)))}")
    time.sleep(0.5)
    if _lines(out) != frozen:
        raise SystemExit("demo: the program kept writing after the dump")

    _stasis("restore", "-D", images, "-o", "restore.log", "-v4", "-d", "--pidfile", os.path.join(work, "pid"))
    with open(os.path.join(work, "pid")) as f:
        new_pid = int(f.read())
    after = _wait_lines(out, len(frozen) + 20)
    try:
        numbers = [int(line.split()[0]) for line in after]
        pids = {line.split()[1] for line in after}
        ballast = {line.split()[3] for line in after}
        print(f"restored as pid {new_pid}; it goes on: {after[len(frozen)]} ... {after[-1]}")
        ok = numbers == list(range(1, len(numbers) + 1)) and pids == {str(pid)} and new_pid == pid
        ok = ok and len(ballast) == 1
        print("counter continues with no gap or repeat, same PID, 8 MiB of memory intact:",
              "yes" if ok else "NO")
    finally:
        os.kill(new_pid, signal.SIGTERM)
        os.waitpid(new_pid, 0)
    print(f"work dir: {work}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
