"""--fault-walk: instead of plain C/R cycles, make the engine fail at each of its fault points
(env STASIS_FAULT=<point>, for the engine process only) and check the failure guarantees of issue 3:

- a dump that fails at any point exits 1 (not a signal) and leaves the tree running as it was: the same
  pids, threads, fds, maps and mounts (for a program that holds still; else its root alive), no task traced
  (TracerPid 0) or left in a tracing stop;
- a restore that fails at any point exits 1 and leaves nothing behind: no process of the tree exists once
  the container's pid 1 reaped what the engine killed, no pidfile and no cgroup it made (the program's
  cgroups.between, removed before each restore); a good restore of the same images
  then works.

The steps are the cycle's own (zdtm.cycle.Cycle); a failure names the point and the step.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from zdtm import engine_cli, state
from zdtm.cgroupfiles import CGROUPS_BETWEEN, between_cgroups
from zdtm.procs import stat_state, traced, wait_reaped
from zdtm.program import StepFailure

if TYPE_CHECKING:
    from zdtm.cycle import Cycle

FAULT_ENV = "STASIS_FAULT"
REAP_TIMEOUT = 10  # seconds for pid 1 to reap what a failed restore killed


def default_points(engine: list[str]) -> list[str]:
    """The engine's fault points, dump then restore, in the order it passes them: the engine is asked
    (`<engine> check --fault-points`), never imported. Raises engine_cli.NoFaultPoints."""
    return engine_cli.fault_points(engine)


@contextmanager
def at(point: str, phase: str) -> Iterator[None]:
    """Name the point and the phase in any failure of the cycle's steps."""
    try:
        yield
    except StepFailure as e:
        raise StepFailure(f"fault {point}: {phase}: {e.step}", e.message) from None


class FaultWalk:
    def __init__(self, cycle: Cycle) -> None:
        self.cycle = cycle
        self.test = cycle.test
        self.points = cycle.spec.fault_points

    def run(self) -> None:
        for point in self.points:
            if point.startswith("dump:"):
                self.dump_fault(point)
            elif point.startswith("restore:"):
                self.restore_fault(point)
            else:
                raise StepFailure(f"fault {point}", "not a dump: or restore: point")

    def _done(self, rel: str) -> None:
        if not self.cycle.spec.keep_images:
            shutil.rmtree(self.cycle.workdir / rel, ignore_errors=True)

    def _tree_now(self) -> list[int]:
        return state.tree_pids(self.test.pid, self.cycle.flavor.newns)

    def dump_fault(self, point: str) -> None:
        cycle, rel = self.cycle, f"dump/fault-{point.replace(':', '-')}"
        with at(point, "before"):
            self.test.settle()
            before = cycle.record()
            # the snapshot's pids are the test's own pid namespace's in ns/uns: looked at through its /proc
            proc = cycle.proc_root() if before is not None else Path("/proc")
            pids = sorted(before) if before is not None else [self.test.pid]
            zombies = {p for p in pids if stat_state(p, proc) == "Z"}  # they must stay zombies
        with at(point, "faulty dump"):
            run = cycle.dump(rel, env={FAULT_ENV: point})
            if run.returncode != 1:
                raise StepFailure("exit", f"{FAULT_ENV}={point}: expected exit 1, got {run.describe()}")
        with at(point, "after the faulty dump"):
            dead = [p for p in pids if not (stat_state(p, proc) == "Z" if p in zombies
                                            else stat_state(p, proc) not in (None, "Z"))]
            if dead:
                raise StepFailure("alive", f"pids {dead} of the tree died (pids before: {pids})")
            bad = traced(self._tree_now(), cycle.proc_root())
            if bad:
                raise StepFailure("traced", "the engine left the tree traced: " + "; ".join(bad[:10]))
            if before is not None:
                cycle.compare(before, f"after the dump failed at {point}", step="state")
        self._done(rel)

    def restore_fault(self, point: str) -> None:
        cycle, rel = self.cycle, f"dump/fault-{point.replace(':', '-')}"
        with at(point, "good dump"):
            self.test.settle()
            before = cycle.record()
            tree = cycle.tree()
            run = cycle.dump(rel)
            if run.returncode != 0:
                raise StepFailure("dump", f"{run.describe()} (see dump.log)")
            cycle.gone(tree)
            between_cgroups(cycle.workdir)
        with at(point, "faulty restore"):
            run = cycle.restore(rel, log="restore-fault.log", env={FAULT_ENV: point})
            if run.returncode != 1:
                raise StepFailure("exit", f"{FAULT_ENV}={point}: expected exit 1, got {run.describe()}")
        with at(point, "after the faulty restore"):
            t = min(cycle.spec.timeout, REAP_TIMEOUT)
            left = wait_reaped(tree, t)
            if left:
                raise StepFailure("leftovers", f"pids {left} still exist {t} s after the failed restore")
            if not cycle.flavor.newns:
                extra = wait_reaped(state.container_pids(), t)
                if extra:
                    raise StepFailure("leftovers", f"the failed restore left pids {extra} in the container")
            if self.test.pidfile.exists():
                raise StepFailure("pidfile", f"the failed restore created {self.test.pidfile.name}")
            made = [p for p in _listed(cycle.workdir / CGROUPS_BETWEEN) if os.path.isdir(p)]
            if made:
                raise StepFailure("leftovers", f"the failed restore left the cgroups it made: {made}")
        with at(point, "good restore"):
            run = cycle.restore(rel)
            if run.returncode != 0:
                raise StepFailure("restore", f"{run.describe()} (see restore.log)")
            cycle.restored(before, f"after the good restore following a failure at {point}")
        self._done(rel)


def _listed(listing: Path) -> list[str]:
    try:
        return [ln.strip() for ln in listing.read_text().splitlines() if ln.strip()]
    except FileNotFoundError:
        return []
