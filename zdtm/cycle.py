"""One C/R cycle of one test program, as upstream's do_run_test (zdtm-protocol.md §4). Runs inside the
item's container (zdtm.ct) with the work dir as cwd, and leaves its verdict in result.json there."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from zdtm import engine_cli, state
from zdtm.flavors import FLAVORS, Flavor

RESULT_FILE = "result.json"
SPEC_FILE = "spec.json"
ENGINE_OUTPUT = "engine.out"
LAUNCH_LOG = "launch.log"
TEST_UID, TEST_GID, TEST_GROUPS = "18943", "58467", "27495 48244"


@dataclass
class CycleSpec:
    test: str  # "static/env00"
    name: str
    flavor: str
    transition: bool
    binary: str
    args: list[str]
    workdir: str
    flags: list[str]
    opts: list[str]
    dopts: list[str]
    ropts: list[str]
    timeout: int
    bind: str | None
    nocr: bool
    iters: int
    norst: bool
    engine: list[str]
    keep_images: bool

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> CycleSpec:
        return cls(**json.loads(path.read_text()))


@dataclass
class CycleResult:
    status: str  # pass, fail, skip, xfail
    step: str = ""
    message: str = ""
    logs: dict[str, str] = field(default_factory=dict)
    duration: float = 0.0

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> CycleResult:
        return cls(**json.loads(path.read_text()))


class StepFailure(Exception):
    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step
        self.message = message


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead for our purposes; pid 1 of the container reaps it at once anyway
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _wait_gone(pids: list[int], timeout: float) -> list[int]:
    """Poll as upstream (0.1 s, then growing); return the pids still alive at the deadline."""
    deadline, delay = time.monotonic() + timeout, 0.05
    while True:
        alive = [p for p in pids if _alive(p)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


class TestProgram:
    """The program under test: start, tree root, stop, PASS check."""

    def __init__(self, spec: CycleSpec, flavor: Flavor) -> None:
        self.spec = spec
        self.flavor = flavor
        self.workdir = Path(spec.workdir)
        self.pidfile = self.workdir / f"{spec.name}.pid"
        self.outfile = self.workdir / f"{spec.name}.out"
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
        if not _alive(self.pid):
            raise StepFailure("start", f"pid {self.pid} from the pidfile is not running")

    def last_output_line(self) -> str:
        """The test's last message, wherever it is: .out once the test exited, else .out.inprogress."""
        for path in (self.outfile, Path(f"{self.outfile}.inprogress"), self.workdir / LAUNCH_LOG):
            if path.exists():
                lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
                if lines:
                    return f"{path.name}: {lines[-1]}"
        return "the test printed nothing"

    def read_pidfile(self, step: str) -> int:
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError) as e:
            raise StepFailure(step, f"cannot read the pidfile {self.pidfile.name}: {e}") from None

    def stop(self) -> None:
        """SIGTERM the root (the ns init in ns/uns, which forwards it) and require PASS on the last line."""
        if not _alive(self.pid):
            raise StepFailure("stop", f"pid {self.pid} died before SIGTERM")
        os.kill(self.pid, signal.SIGTERM)
        if _wait_gone([self.pid], self.spec.timeout):
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


class Cycle:
    def __init__(self, spec: CycleSpec) -> None:
        self.spec = spec
        self.flavor = FLAVORS[spec.flavor]
        self.workdir = Path(spec.workdir)
        self.test = TestProgram(spec, self.flavor)
        self.last_images: Path | None = None

    def run(self) -> CycleResult:
        self.flavor.prepare(self.workdir, self.spec.bind)
        self.test.start()
        if self.spec.transition:
            time.sleep(random.random())  # dump at a random moment of the transition
        if self.spec.nocr:
            self.test.stop()
            return CycleResult("pass")
        for it in range(1, self.spec.iters + 1):
            outcome = self.cr(it)
            if outcome:
                return outcome
        if "crfail" in self.spec.flags:
            self.test.stop()
            raise StepFailure("crfail", "unexpected success: the desc says dump or restore must fail")
        self.test.stop()
        if not self.spec.keep_images:
            shutil.rmtree(self.workdir / "dump", ignore_errors=True)
        return CycleResult("pass")

    def _engine(self, action: str, argv: list[str], images: Path) -> engine_cli.EngineRun:
        run = engine_cli.run(argv, self.workdir, images, f"{action}.log", self.workdir / ENGINE_OUTPUT)
        if run.returncode is None or run.killed_by_signal:
            raise StepFailure(action, f"`{' '.join(argv)}` {run.describe()}")
        if not run.log.exists():
            raise StepFailure(
                action,
                f"{run.describe()}, and the engine wrote no {run.log.name} "
                "(--log-file is relative to --images-dir and must always be written)",
            )
        return run

    def cr(self, it: int) -> CycleResult | None:
        """One dump (and restore): None to go on, or the final result of an expected failure."""
        spec, crfail, newns = self.spec, "crfail" in self.spec.flags, self.flavor.newns
        rel_images = f"dump/{it}"
        images = self.workdir / rel_images
        images.mkdir(parents=True)
        os.chmod(images, 0o777)
        self.last_images = images
        check_state = not spec.transition
        before = state.visible_state(self.test.pid, newns) if check_state else None
        # h: every process of the tree must die; ns/uns: the init (its pid ns dies with it)
        tree = [self.test.pid] if newns else state.tree_pids(self.test.pid, newns)
        dump = self._engine(
            "dump",
            engine_cli.dump_argv(
                spec.engine,
                rel_images,
                self.test.pid,
                self.test.pidfile,
                tuple(spec.opts),
                tuple(spec.dopts),
                self.flavor.dump_opts(self.workdir),
                spec.norst,
            ),
            images,
        )
        if dump.returncode != 0:
            if not crfail:
                raise StepFailure("dump", f"{dump.describe()} (see dump.log)")
            if not _alive(self.test.pid):
                raise StepFailure("dump", f"expected failure ({dump.describe()}), but the tree died with it")
            self.test.stop()
            return CycleResult("pass", "dump", f"dump failed as expected ({dump.describe()})")
        if spec.norst:
            if before is not None:
                self._compare(before, "after dump --leave-running")
            return None
        alive = _wait_gone(tree, spec.timeout)
        if alive:
            raise StepFailure("gone", f"pids {alive} still alive {spec.timeout} s after a successful dump")
        self.test.pidfile.unlink(missing_ok=True)
        restore = self._engine(
            "restore",
            engine_cli.restore_argv(
                spec.engine,
                rel_images,
                self.test.pidfile,
                tuple(spec.opts),
                tuple(spec.ropts),
                self.flavor.restore_opts(self.workdir),
            ),
            images,
        )
        if restore.returncode != 0:
            if crfail:
                return CycleResult("pass", "restore", f"restore failed as expected ({restore.describe()})")
            raise StepFailure("restore", f"{restore.describe()} (see restore.log)")
        old_pid, self.test.pid = self.test.pid, self.test.read_pidfile("restore")
        if not _alive(self.test.pid):
            raise StepFailure("restore", f"restored root pid {self.test.pid} (pidfile) is not running")
        if not newns and self.test.pid != old_pid:
            raise StepFailure("restore", f"the root was restored as pid {self.test.pid}, not {old_pid}")
        if before is not None:
            self._compare(before, f"after restore (iteration {it})")
        return None

    def _compare(self, before: state.State, when: str) -> None:
        diff = state.compare(before, state.visible_state(self.test.pid, self.flavor.newns))
        if diff:
            raise StepFailure("compare", f"visible state differs {when}:\n{diff}")

    def logs(self) -> dict[str, str]:
        name = self.spec.name
        candidates = [LAUNCH_LOG, f"{name}.out", f"{name}.out.inprogress", f"{name}.outns", ENGINE_OUTPUT]
        found = {c: str(self.workdir / c) for c in candidates if (self.workdir / c).exists()}
        if self.last_images:
            for log in ("dump.log", "restore.log"):
                if (self.last_images / log).exists():
                    found[log] = str(self.last_images / log)
        return found


def main(spec_path: Path) -> int:
    spec = CycleSpec.load(spec_path)
    workdir = Path(spec.workdir)
    os.chdir(workdir)
    started = time.monotonic()
    cycle = Cycle(spec)
    try:
        result = cycle.run()
    except StepFailure as e:
        result = CycleResult("fail", e.step, e.message)
    except Exception:
        result = CycleResult("fail", "harness", traceback.format_exc())
    result.logs = cycle.logs()
    result.duration = time.monotonic() - started
    result.save(workdir / RESULT_FILE)
    return 0 if result.status == "pass" else 1
