"""One C/R cycle of one test program, as upstream's do_run_test (zdtm-protocol.md §4). Runs inside the
item's container (zdtm.ct) with the work dir as cwd, and leaves its verdict in result.json there."""

from __future__ import annotations

import json
import os
import random
import shutil
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from zdtm import engine_cli, joinns, state, unpriv
from zdtm.cgroupfiles import CGROUPS_BETWEEN, CGROUPS_CLEANUP, between_cgroups, remove_cgroups
from zdtm.flavors import FLAVORS
from zdtm.procs import alive, wait_gone
from zdtm.program import TEST_GID, TEST_GROUPS, TEST_UID, Program, StepFailure, TestProgram

RESULT_FILE = "result.json"
PRE_GAP = 0.1  # --pre: seconds the tree runs between pre-dumps (and before the dump)
SPEC_FILE = "spec.json"
ENGINE_OUTPUT = "engine.out"
STEADY_TRIES = 20  # reads of a real program's state before the dump, until two agree
REPO = str(Path(__file__).resolve().parents[1])

__all__ = ["CycleResult", "CycleSpec", "Cycle", "StepFailure", "main"]


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
    real: bool = False  # binary is a real/<name>.py descriptor (zdtm.real), not a compiled test
    fault_points: list[str] = field(default_factory=list)  # --fault-walk: walk these instead of --iters
    pre: int = 0  # --pre N: pre-dumps before each dump
    snaps: bool = False  # --snaps: each dump (--leave-running --track-mem) the parent of the next
    unpriv: bool = False  # --unpriv: the engine as the programs' uid, --unprivileged (zdtm/unpriv.py)

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


class PreDumpRefused(Exception):
    """A crfail program's pre-dump failed (as it may: the refusal is the expected outcome)."""


def make_program(spec: CycleSpec) -> Program:
    if spec.real:
        from zdtm.real import RealProgram

        return RealProgram(spec)
    return TestProgram(spec, FLAVORS[spec.flavor])


class Cycle:
    """The C/R cycle of one item, in steps the fault walk (zdtm.faultwalk) reuses: dump(), gone(),
    restore(), restored()."""

    def __init__(self, spec: CycleSpec) -> None:
        self.spec = spec
        self.flavor = FLAVORS[spec.flavor]
        self.workdir = Path(spec.workdir)
        self.test = make_program(spec)
        self.last_images: Path | None = None
        self.parent: str | None = None  # --snaps: the previous dump's images (rel), the next one's parent
        # namespaces made for --join-ns {join:KIND} in the desc's ropts (zdtm.joinns)
        self.joins = joinns.Prepared(self.workdir) if any(joinns.PLACEHOLDER.search(o) for o in spec.ropts) \
            else None

    def run(self) -> CycleResult:
        try:
            return self._run()
        finally:
            if self.joins:
                self.joins.cleanup()

    def _run(self) -> CycleResult:
        self.flavor.prepare(self.workdir, self.spec.bind)
        self.test.start()
        if self.spec.transition:
            time.sleep(random.random())  # dump at a random moment of the transition
        if self.spec.nocr:
            self.test.settle()
            self.test.stop()
            return CycleResult("pass")
        if self.spec.fault_points:
            from zdtm.faultwalk import FaultWalk

            FaultWalk(self).run()
        else:
            for it in range(1, self.spec.iters + 1):
                outcome = self.cr(it)
                if outcome:
                    return outcome
            if "crfail" in self.spec.flags:
                self.test.stop()
                raise StepFailure("crfail", "unexpected success: the desc says dump or restore must fail")
        self.test.settle()
        self.test.stop()
        if not self.spec.keep_images:
            shutil.rmtree(self.workdir / "dump", ignore_errors=True)
        return CycleResult("pass")

    def _engine(
        self, action: str, argv: list[str], images: Path, log: str, env: dict[str, str] | None = None
    ) -> engine_cli.EngineRun:
        user = None
        if self.spec.unpriv:  # the engine as the programs' user, with CAP_CHECKPOINT_RESTORE and SYS_PTRACE
            prefix, uenv = unpriv.engine_command(REPO)
            argv = [*prefix, *argv[len(self.spec.engine):], "--unprivileged"]
            env = {**(env or {}), "PYTHONPATH": uenv["PYTHONPATH"]}
            groups = tuple(int(g) for g in TEST_GROUPS.split())
            user = unpriv.preexec(int(TEST_UID), int(TEST_GID), groups=groups)
        run = engine_cli.run(argv, self.workdir, images, log, self.workdir / ENGINE_OUTPUT, env, user)
        if run.returncode is None or run.killed_by_signal:
            raise StepFailure(action, f"`{' '.join(argv)}` {run.describe()}")
        if not run.log.exists():
            raise StepFailure(
                action,
                f"{run.describe()}, and the engine wrote no {run.log.name} "
                "(--log-file is relative to --images-dir and must always be written)",
            )
        return run

    def images(self, rel: str) -> Path:
        images = self.workdir / rel
        images.mkdir(parents=True, exist_ok=True)
        os.chmod(images, 0o777)
        self.last_images = images
        return images

    def record(self) -> state.State | None:
        """The visible state to compare after C/R, if this program holds still for it. A real program is
        not at a steady state by protocol (a thread it just made still has every signal blocked): its state
        is read again until two reads 50 ms apart agree."""
        if not self.test.check_state:
            return None
        now = state.visible_state(self.test.pid, self.flavor.newns)
        if self.spec.real:
            opts = (*self.spec.opts, *self.spec.dopts, *self.spec.ropts)
            for _ in range(STEADY_TRIES):
                time.sleep(0.05)
                again = state.visible_state(self.test.pid, self.flavor.newns)
                if not state.compare(now, again, opts):
                    break
                now = again
        return now

    def tree(self) -> list[int]:
        """The pids that must die with a dump: h every process of the tree; ns/uns the init (its pid ns
        dies with it)."""
        return [self.test.pid] if self.flavor.newns else state.tree_pids(self.test.pid, False)

    def proc_root(self) -> Path:
        """The /proc where tree_pids() are valid: the container's (h) or the test's pid ns (ns/uns)."""
        return Path(f"/proc/{self.test.pid}/root/proc") if self.flavor.newns else Path("/proc")

    def dump(
        self,
        rel_images: str,
        log: str = "dump.log",
        env: dict[str, str] | None = None,
        action: str = "dump",
        extra: tuple[str, ...] = (),
        leave_running: bool | None = None,
    ) -> engine_cli.EngineRun:
        spec = self.spec
        argv = engine_cli.dump_argv(
            spec.engine,
            rel_images,
            self.test.pid,
            self.test.pidfile,
            tuple(spec.opts),
            joinns.dump_opts(tuple(spec.dopts), self.test.pid),
            self.flavor.dump_opts(self.workdir),
            spec.norst if leave_running is None else leave_running,
            log,
            action,
            extra,
        )
        return self._engine(action, argv, self.images(rel_images), log, env)

    def pre_dumps(self, it: int, before: state.State | None) -> tuple[str | None, state.State | None]:
        """--pre N: the pre-dumps before dump `it` (each --track-mem, the parent of the next), the tree
        compared after each (PRE_GAP seconds later: it runs and writes between them). Returns the last one's
        images (rel) and the state to compare after restore: a desc flag 'premut' program changes itself
        once it sees the tracking (on purpose), so its state is recorded again after the pre-dumps."""
        parent = self.parent
        premut = "premut" in self.spec.flags
        for p in range(1, self.spec.pre + 1):
            rel = f"dump/{it}.pre{p}"
            extra = ("--track-mem", *(("--prev-images-dir", f"../{Path(parent).name}") if parent else ()))
            run = self.dump(rel, "pre-dump.log", action="pre-dump", extra=extra)
            if run.returncode != 0:
                if "crfail" in self.spec.flags:
                    raise PreDumpRefused(f"pre-dump {p} failed as expected ({run.describe()})")
                raise StepFailure("pre-dump", f"{run.describe()} (see pre-dump.log in {rel})")
            time.sleep(PRE_GAP)
            if before is not None and not premut:
                self.compare(before, f"after pre-dump {p}", tracking=True)
            parent = rel
        if premut and before is not None:
            before = state.without_vmflags(self.record() or {}, state.TRACKING)
            for pid in self.holder_pids():
                before.pop(pid, None)
        return parent, before

    def holder_pids(self) -> set[int]:
        out = set()
        for rec in (self.workdir / "dump").glob("*/stasis-memtrack.json"):
            try:
                out.add(int(json.loads(rec.read_text()).get("holder", 0)))
            except (OSError, ValueError):
                pass
        return out - {0}

    def holders_gone(self, dirs: list[str]) -> None:
        """A tracking holder (engine/holder.py, pid in the images' stasis-memtrack.json) must end with the
        dump that takes its fds: one still there is killed (by that pid) and fails the item."""
        left = []
        for rel in dirs:
            try:
                rec = json.loads((self.workdir / rel / "stasis-memtrack.json").read_text())
            except (OSError, ValueError):
                continue
            pid = int(rec.get("holder", 0))
            if pid and not wait_gone([pid], 5):
                continue
            if pid:
                left.append(f"{pid} (of {rel})")
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
        if left:
            raise StepFailure("holder", f"tracking holder(s) {', '.join(left)} still running after the dump")

    def gone(self, tree: list[int]) -> None:
        """After a successful dump: the whole tree is dead, and its pidfile out of the restore's way."""
        left = wait_gone(tree, self.spec.timeout)
        if left:
            t = self.spec.timeout
            raise StepFailure("gone", f"pids {left} still alive {t} s after a successful dump")
        self.test.pidfile.unlink(missing_ok=True)

    def restore(
        self, rel_images: str, log: str = "restore.log", env: dict[str, str] | None = None
    ) -> engine_cli.EngineRun:
        spec = self.spec
        ropts = self.joins.substitute(tuple(spec.ropts)) if self.joins else tuple(spec.ropts)
        argv = engine_cli.restore_argv(
            spec.engine,
            rel_images,
            self.test.pidfile,
            tuple(spec.opts),
            ropts,
            self.flavor.restore_opts(self.workdir),
            log,
        )
        return self._engine("restore", argv, self.images(rel_images), log, env)

    def restored(self, before: state.State | None, when: str) -> None:
        """After a successful restore: the root is back (at its pid in h) with the state it had."""
        old_pid, self.test.pid = self.test.pid, self.test.read_pidfile("restore")
        if not alive(self.test.pid):
            raise StepFailure("restore", f"restored root pid {self.test.pid} (pidfile) is not running")
        if not self.flavor.newns and self.test.pid != old_pid:
            raise StepFailure("restore", f"the root was restored as pid {self.test.pid}, not {old_pid}")
        if self.joins:
            why = self.joins.check(self.test.pid)
            self.joins.release()
            if why:
                raise StepFailure("restore", why)
        if before is not None:
            self.compare(before, when)

    def cr(self, it: int) -> CycleResult | None:
        """One dump (and restore): None to go on, or the final result of an expected failure."""
        spec, crfail = self.spec, "crfail" in self.spec.flags
        rel_images = f"dump/{it}"
        self.test.settle()
        before = self.record()
        if before is not None and self.parent:  # --snaps: the previous dump left the tracking armed
            before = state.without_vmflags(before, state.TRACKING)
            for pid in self.holder_pids():
                before.pop(pid, None)
        tree = self.tree()
        parent = self.parent
        if spec.pre:
            try:
                parent, before = self.pre_dumps(it, before)
            except PreDumpRefused as e:  # crfail: refused already by a pre-dump, the tree untouched
                if not alive(self.test.pid):
                    raise StepFailure("pre-dump", f"{e}, but the tree died with it") from None
                if before is not None:
                    self.compare(before, "after the refused pre-dump", step="crfail")
                self.holders_gone([f"dump/{it}.pre{p}" for p in range(1, spec.pre + 1)])
                self.test.stop()
                return CycleResult("pass", "pre-dump", str(e))
        snap = spec.snaps and it < spec.iters  # --snaps: this one stays running, the parent of the next
        extra: tuple[str, ...] = ()
        if parent:
            extra = ("--prev-images-dir", f"../{Path(parent).name}", "--track-mem")
        elif snap:
            extra = ("--track-mem",)
        if self.joins and not (spec.norst or snap):
            self.joins.prepare(tuple(spec.ropts))
        dump = self.dump(rel_images, extra=extra, leave_running=spec.norst or snap)
        tracked = [f"dump/{it}.pre{p}" for p in range(1, spec.pre + 1)]
        tracked += [self.parent] if self.parent else []
        self.parent = None
        self.holders_gone(tracked)
        if dump.returncode != 0:
            if not crfail:
                raise StepFailure("dump", f"{dump.describe()} (see dump.log)")
            if not alive(self.test.pid):
                raise StepFailure("dump", f"expected failure ({dump.describe()}), but the tree died with it")
            if before is not None:  # a refused dump leaves the tree exactly as it was
                self.compare(before, "after the refused dump", step="crfail")
            self.test.stop()
            return CycleResult("pass", "dump", f"dump failed as expected ({dump.describe()})")
        if snap:
            if before is not None and "premut" not in spec.flags:
                self.compare(before, "after dump --leave-running --track-mem", tracking=True)
            self.parent = rel_images
            return None
        self.holders_gone([rel_images])  # a dump that killed the tree leaves no holder
        if spec.norst:
            if before is not None:
                self.compare(before, "after dump --leave-running")
            return None
        self.gone(tree)
        between_cgroups(self.workdir)
        restore = self.restore(rel_images)
        if restore.returncode != 0:
            if crfail:  # stricter than upstream: what restore cannot bring back, dump must refuse
                raise StepFailure(
                    "crfail",
                    f"the dump succeeded and killed the tree, then the restore failed ({restore.describe()}, "
                    "see restore.log): dump must refuse what cannot come back",
                )
            raise StepFailure("restore", f"{restore.describe()} (see restore.log)")
        self.restored(before, f"after restore (iteration {it})")
        return None

    def compare(self, before: state.State, when: str, step: str = "compare", tracking: bool = False) -> None:
        """`tracking`: the tree runs on with the engine's dirty tracking armed (--track-mem): the VMAs it
        registered for write-protection show VmFlags uw until the next dump ends it (state.TRACKING)."""
        opts = (*self.spec.opts, *self.spec.dopts, *self.spec.ropts)
        now = state.visible_state(self.test.pid, self.flavor.newns)
        if tracking:  # and the engine's holder of the tracking fds (engine/holder.py) is not the tree's
            now = state.without_vmflags(now, state.TRACKING)
            for pid in self.holder_pids():
                now.pop(pid, None)
        diff = state.compare(before, now, opts)
        if diff:
            raise StepFailure(step, f"visible state differs {when}:\n{diff}")

    def logs(self) -> dict[str, str]:
        found = {c: str(self.workdir / c) for c in [*self.test.log_names(), ENGINE_OUTPUT]}
        found = {c: p for c, p in found.items() if Path(p).exists()}
        if self.last_images:
            for log in sorted(self.last_images.glob("*.log")):
                found[log.name] = str(log)
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
    try:  # the program is gone: what it could not remove
        for name in (CGROUPS_CLEANUP, CGROUPS_BETWEEN):
            remove_cgroups(workdir / name, "after the item")
    except StepFailure as e:
        if result.status == "pass":
            result = CycleResult("fail", e.step, e.message)
    result.logs = cycle.logs()
    result.duration = time.monotonic() - started
    result.save(workdir / RESULT_FILE)
    return 0 if result.status == "pass" else 1
