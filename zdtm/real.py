"""Real programs (the real/ group): programs nobody wrote for Stasis, checkpointed mid-work and verified after
restore by their own output.

A real program is one file, real/<name>.py, that defines `PROGRAM = Real(...)`: how to start it, how far it
got (a number that grows while it works, e.g. the lines of its output file), when it is mid-work (that
number grew by `mid_work`), how to end it (a signal to the root, or a file it looks for) and how to verify
its output once it ended. The harness imports that file; helper scripts live in real/progs/ (not collected).
The cycle is the one of static/ and transition/ programs (zdtm.cycle); only the program differs (RealProgram).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from zdtm import state
from zdtm.procs import alive, wait_gone
from zdtm.program import ProgramSpec, StepFailure, read_pid

# real programs make no namespaces of their own (the C test library does that for ns/uns)
FLAVORS = ("h",)
NS_SKIP = "real programs run in flavor h only for now (ns/uns need the harness to make the namespaces)"


@dataclass(frozen=True)
class Real:
    argv: list[str]  # run as root with cwd = the work dir, stdin /dev/null, stdout/stderr to files there
    progress: Callable[[Path], int]  # how far it got, read from the work dir; grows while it works
    verify: Callable[[Path], list[str]]  # once it ended: the problems in its output, [] if all is right
    mid_work: int = 50  # dump once progress grew by this much since the start or the last restore
    stop: str = "SIGTERM"  # a signal name sent to the root, or "file:NAME" to create in the work dir
    timeout: int = 30  # seconds for each wait: mid-work, the end after stop
    check_state: bool = False  # compare the visible state across C/R (only for a program that holds still)
    env: dict[str, str] = field(default_factory=dict)
    opts: list[str] = field(default_factory=list)  # engine options for dump and restore (the desc's opts)


def load(path: Path) -> Real:
    """Import real/<name>.py and return its PROGRAM."""
    modname = f"zdtm_real_{path.stem}"
    spec = importlib.util.spec_from_file_location(modname, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # no __pycache__ in real/
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont_write
    program = getattr(module, "PROGRAM", None)
    if not isinstance(program, Real):
        raise ImportError(f"{path}: defines no PROGRAM = zdtm.real.Real(...)")
    return program


# helpers for descriptors


def lines(path: Path) -> list[str]:
    """The complete lines of a file (a last line without its newline is still being written)."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return []
    return text.splitlines()[: text.count("\n")]


def gapless(numbers: Iterable[int], what: str, first: int = 1) -> list[str]:
    """Problems if `numbers` is not exactly first, first+1, ... in this order."""
    problems = []
    for i, n in enumerate(numbers, first):
        if n != i:
            problems.append(f"{what}: expected {i}, found {n}")
            if len(problems) >= 5:
                problems.append(f"{what}: ...")
                break
    return problems


def _spawn_daemon(argv: list[str], cwd: Path, env: dict[str, str], out: Path, err: Path) -> int:
    """Start argv in its own session with pid 1 of the container as its parent (as test_daemon() does),
    so that the cycle never holds its exit status or its zombie; return its pid."""
    r, w = os.pipe()
    child = os.fork()
    if child == 0:  # the intermediate: starts the program and exits at once
        code = 127
        try:
            os.close(r)
            with open(out, "ab") as o, open(err, "ab") as e:
                proc = subprocess.Popen(
                    argv,
                    cwd=cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=o,
                    stderr=e,
                    start_new_session=True,
                )
            os.write(w, str(proc.pid).encode())
            code = 0
        except BaseException as exc:
            os.write(w, f"error {exc}".encode())
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        answer = f.read().decode(errors="replace")
    os.waitpid(child, 0)
    if not answer.isdigit():
        raise StepFailure("start", f"cannot start {argv}: {answer or 'the launcher died'}")
    return int(answer)


class RealProgram:
    """A real program run by the cycle in place of a ZDTM test program (see the Program protocol)."""

    def __init__(self, spec: ProgramSpec) -> None:
        self.spec = spec
        self.real = load(Path(spec.binary))
        self.workdir = Path(spec.workdir)
        self.pidfile = self.workdir / f"{spec.name}.pid"
        self.stdout = self.workdir / f"{spec.name}.stdout"
        self.stderr = self.workdir / f"{spec.name}.stderr"
        self.check_state = self.real.check_state
        self.pid = 0
        self.mark = 0  # progress at the last settle()

    def progress(self) -> int:
        try:
            return self.real.progress(self.workdir)
        except Exception as e:  # a descriptor's bug, or output it does not expect
            raise StepFailure("progress", f"the descriptor's progress() failed: {e!r}") from None

    def start(self) -> None:
        env = {**os.environ, "TMPDIR": os.environ.get("TMPDIR", "/tmp"), **self.real.env}
        with open(self.stderr, "ab") as err:
            err.write(f"$ {' '.join(self.real.argv)}\n".encode())
        self.pid = _spawn_daemon(self.real.argv, self.workdir, env, self.stdout, self.stderr)
        self.pidfile.write_text(f"{self.pid}\n")
        self.mark = 0
        self.settle()

    def settle(self) -> None:
        """Wait until the program has done `mid_work` more since the last time: mid-work before a dump,
        and proof that it went on working after a restore before the next dump or the stop."""
        goal = self.mark + self.real.mid_work
        deadline = time.monotonic() + self.real.timeout
        while (now := self.progress()) < goal:
            if not alive(self.pid):
                raise StepFailure("mid-work", f"pid {self.pid} died at progress {now}: {self.last_error()}")
            if time.monotonic() > deadline:
                raise StepFailure(
                    "mid-work",
                    f"progress {now} after {self.real.timeout} s, waiting for {goal} "
                    f"(pid {self.pid} {'alive' if alive(self.pid) else 'dead'}): {self.last_error()}",
                )
            time.sleep(0.02)
        self.mark = now

    def last_error(self) -> str:
        got = [ln for ln in lines(self.stderr) if ln.strip() and not ln.startswith("$ ")]
        return f"{self.stderr.name}: {got[-1]}" if got else f"{self.stderr.name} is empty"

    def read_pidfile(self, step: str) -> int:
        return read_pid(self.pidfile, step)

    def stop(self) -> None:
        """End it the way it ends normally, wait for its whole tree to be gone, then verify its output."""
        if not alive(self.pid):
            raise StepFailure("stop", f"pid {self.pid} died before the stop: {self.last_error()}")
        pids = state.container_pids()
        how = self.real.stop
        if how.startswith("file:"):
            (self.workdir / how.removeprefix("file:")).touch()
        else:
            os.kill(self.pid, signal.Signals[how])
        left = wait_gone(pids, self.real.timeout)
        left += [p for p in wait_gone(state.container_pids(), 1.0) if p not in left]
        if left:
            raise StepFailure("stop", f"pids {left} still alive {self.real.timeout} s after {how}")
        try:
            problems = self.real.verify(self.workdir)
        except Exception as e:
            problems = [f"the descriptor's verify() failed: {e!r}"]
        if problems:
            raise StepFailure("verify", "\n".join(problems[:20]))

    def log_names(self) -> list[str]:
        return [self.stdout.name, self.stderr.name]
