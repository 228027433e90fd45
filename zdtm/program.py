"""The program under test, as the cycle sees it: start it, let it work, stop it and check its verdict.
TestProgram is a ZDTM C program (static/, transition/); zdtm.real.RealProgram is a real program (real/)."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Protocol

from zdtm.flavors import Flavor
from zdtm.procs import alive, wait_gone

LAUNCH_LOG = "launch.log"
TEST_UID, TEST_GID, TEST_GROUPS = "18943", "58467", "27495 48244"


class StepFailure(Exception):
    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step
        self.message = message


class ProgramSpec(Protocol):  # the fields of zdtm.cycle.CycleSpec a program uses
    name: str
    binary: str
    args: list[str]
    workdir: str
    flags: list[str]
    timeout: int
    bind: str | None
    transition: bool


class Program(Protocol):
    pid: int  # the root of the tree: what the engine dumps with --tree
    pidfile: Path  # where restore --pidfile writes the restored root
    check_state: bool  # compare the visible state across C/R (a steady state), or not (mid-work)

    def start(self) -> None: ...

    def settle(self) -> None:
        """Called before every dump and before stop: wait until the program is where it may be dumped."""

    def stop(self) -> None:
        """End the program as it ends normally and require its own verdict (PASS)."""

    def read_pidfile(self, step: str) -> int: ...

    def log_names(self) -> list[str]:
        """Files of the work dir worth attaching to a failure report."""


def read_pid(pidfile: Path, step: str) -> int:
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError) as e:
        raise StepFailure(step, f"cannot read the pidfile {pidfile.name}: {e}") from None


class TestProgram:
    """A ZDTM C test program: daemonizes, writes its pidfile, PASS on the last line of its outfile."""

    def __init__(self, spec: ProgramSpec, flavor: Flavor) -> None:
        self.spec = spec
        self.flavor = flavor
        self.workdir = Path(spec.workdir)
        self.pidfile = self.workdir / f"{spec.name}.pid"
        self.outfile = self.workdir / f"{spec.name}.out"
        self.check_state = not spec.transition
        self.pid = 0

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["TMPDIR"] = os.environ.get("TMPDIR", "/tmp")
        env["ZDTM_THREAD_BOMB"] = "5"
        if "suid" not in self.spec.flags:
            env.update(ZDTM_UID=TEST_UID, ZDTM_GID=TEST_GID, ZDTM_GROUPS=TEST_GROUPS)
        if self.spec.bind:
            env["ZDTM_BIND"] = self.spec.bind
        env.update(self.flavor.env(self.workdir))
        return env

    def start(self) -> None:
        argv = [self.spec.binary, *self.spec.args]
        with open(self.workdir / LAUNCH_LOG, "wb") as log:
            log.write(f"$ {' '.join(argv)}\n".encode())
            log.flush()
            launcher = subprocess.Popen(
                argv, cwd=self.workdir, env=self.env(), stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        try:
            rc = launcher.wait(self.spec.timeout)
        except subprocess.TimeoutExpired:
            launcher.kill()
            launcher.wait()
            raise StepFailure(
                "start",
                f"the launcher did not exit within {self.spec.timeout} s "
                "(the test never called test_daemon())",
            ) from None
        if rc != 0:
            raise StepFailure("start", f"the launcher exited with {rc}: {self.last_output_line()}")
        self.pid = self.read_pidfile("start")
        if not alive(self.pid):
            raise StepFailure("start", f"pid {self.pid} from the pidfile is not running")

    def settle(self) -> None:
        pass  # a static test is at its steady state once daemonized; a transition one at any moment

    def last_output_line(self) -> str:
        """The test's last message, wherever it is: .out once the test exited, else .out.inprogress."""
        for path in (self.outfile, Path(f"{self.outfile}.inprogress"), self.workdir / LAUNCH_LOG):
            if path.exists():
                lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
                if lines:
                    return f"{path.name}: {lines[-1]}"
        return "the test printed nothing"

    def read_pidfile(self, step: str) -> int:
        return read_pid(self.pidfile, step)

    def stop(self) -> None:
        """SIGTERM the root (the ns init in ns/uns, which forwards it) and require PASS on the last line."""
        if not alive(self.pid):
            raise StepFailure("stop", f"pid {self.pid} died before SIGTERM")
        os.kill(self.pid, signal.SIGTERM)
        if wait_gone([self.pid], self.spec.timeout):
            raise StepFailure("stop", f"pid {self.pid} still alive {self.spec.timeout} s after SIGTERM")
        self.check_pass()

    def check_pass(self) -> None:
        if not self.outfile.exists():
            raise StepFailure(
                "pass-check",
                f"{self.outfile.name} is missing: the outfile was never renamed, so "
                "the test died or its pid changed across C/R (see .out.inprogress)",
            )
        lines = self.outfile.read_text(errors="replace").splitlines()
        last = lines[-1] if lines else ""
        if "PASS" not in last.split():
            raise StepFailure("pass-check", f"the last line of {self.outfile.name} is not PASS: {last!r}")

    def log_names(self) -> list[str]:
        name = self.spec.name
        return [LAUNCH_LOG, f"{name}.out", f"{name}.out.inprogress", f"{name}.outns"]
