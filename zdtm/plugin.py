"""The ZDTM pytest plugin: options and hooks. Collection lives in items.py, the cycle in cycle.py, reports
in junit.py; each piece is switched by an option here."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

import pytest

from zdtm.desc import ALL_FLAVORS
from zdtm.groups import group_for
from zdtm.items import ProgramFile

MARKERS = {
    "h": "flavor h: the program shares the container's namespaces",
    "ns": "flavor ns: the program in its own pid/mnt/uts/net/ipc/time namespaces",
    "uns": "flavor uns: ns plus a user namespace",
    "static": "static/ programs: dumped at their steady state",
    "transition": "transition/ programs: dumped at a random moment",
    "real": "real/ programs: real programs, dumped mid-work and verified by their own output",
    "excl": "desc flag excl: never runs alongside another item",
    "crfail": "desc flag crfail: dump or restore must fail cleanly",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("zdtm", "ZDTM checkpoint/restore harness")
    g.addoption(
        "--nocr", dest="zdtm_nocr", action="store_true", help="no engine: start, SIGTERM, require PASS"
    )
    g.addoption("--iters", dest="zdtm_iters", type=int, default=1, metavar="N", help="C/R cycles per item")
    g.addoption(
        "--count", dest="zdtm_count", type=int, default=1, metavar="N",
        help="launch each item N times (a fresh program each time); one that fails in some of them is "
        "reported flaky at the end",
    )
    g.addoption(
        "--unpriv",
        dest="zdtm_unpriv",
        action="store_true",
        help="the engine runs as the programs' uid with CAP_CHECKPOINT_RESTORE and CAP_SYS_PTRACE only "
        "(dump and restore --unprivileged); programs that run as root (suid) and flavors ns/uns are skipped",
    )
    g.addoption(
        "--norst", dest="zdtm_norst", action="store_true", help="dump with --leave-running, no restore"
    )
    g.addoption(
        "--pre",
        dest="zdtm_pre",
        type=int,
        default=0,
        metavar="N",
        help="N pre-dumps (--track-mem, each the parent of the next) before each dump, as upstream's --pre",
    )
    g.addoption(
        "--snaps",
        dest="zdtm_snaps",
        action="store_true",
        help="as upstream's --snaps: every dump of --iters but the last with --leave-running --track-mem, "
        "each "
        "the parent (--prev-images-dir) of the next; one restore, from the last",
    )
    g.addoption(
        "--engine",
        dest="zdtm_engine",
        metavar="CMD",
        help="criu-compatible engine command (default: `stasis` on PATH, else `python -m engine`)",
    )
    g.addoption(
        "--flavor",
        dest="zdtm_flavor",
        default=",".join(ALL_FLAVORS),
        metavar="h,ns,uns",
        help="flavors to run (comma-separated)",
    )
    g.addoption(
        "--zdtm-junit",
        dest="zdtm_junit",
        metavar="FILE",
        help="junit XML with one testsuite per flavor (zdtm-<flavor>-<kernel release>)",
    )
    g.addoption(
        "--keep-images", dest="zdtm_keep_images", action="store_true", help="keep images after a PASS"
    )
    g.addoption(
        "--fault-walk",
        dest="zdtm_fault_walk",
        action="store_true",
        help="instead of C/R cycles, make the engine fail at each of its fault points (STASIS_FAULT) and "
        "check that a failed dump leaves the tree running untouched and a failed restore leaves nothing",
    )
    g.addoption(
        "--fault-points",
        dest="zdtm_fault_points",
        metavar="P1,P2",
        help="with --fault-walk: only these points (default: all, as `<engine> check --fault-points` "
        "lists them)",
    )
    g.addoption(
        "--stress",
        dest="zdtm_stress",
        action="store_true",
        help="load the machine while the items run: one busy-loop process per core and one that keeps "
        "touching a quarter of the free memory (started by the controller, killed at the end)",
    )
    g.addoption(
        "--zdtm-timeout",
        dest="zdtm_timeout",
        type=float,
        metavar="SECONDS",
        help="kill an item's container after this long (default: from the desc timeout and --iters)",
    )


def default_engine() -> list[str]:
    stasis = shutil.which("stasis")
    return [stasis] if stasis else [sys.executable, "-m", "engine"]


def pytest_configure(config: pytest.Config) -> None:
    for name, doc in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {doc}")
    flavors = [f for f in config.getoption("zdtm_flavor").split(",") if f]
    bad = [f for f in flavors if f not in ALL_FLAVORS]
    if bad:
        raise pytest.UsageError(f"--flavor: unknown {bad}; choose from {','.join(ALL_FLAVORS)}")
    config.option.zdtm_flavors = flavors
    given = config.getoption("zdtm_engine")
    config.zdtm_engine = shlex.split(given) if given else default_engine()  # type: ignore[attr-defined]
    config.zdtm_fault_points = fault_points(config)  # type: ignore[attr-defined]
    if config.getoption("zdtm_unpriv") and not hasattr(config, "workerinput"):  # made once, not per worker
        from zdtm import unpriv

        unpriv.engine_command(str(Path(__file__).resolve().parents[1]))
    junit = config.getoption("zdtm_junit")
    if junit and not hasattr(config, "workerinput"):  # under xdist, only the controller writes the file
        from zdtm.junit import JunitWriter

        config.pluginmanager.register(JunitWriter(Path(junit)), "zdtm-junit")
    if config.getoption("zdtm_stress") and not hasattr(config, "workerinput"):  # the controller only
        from zdtm.stress import Stress

        config.pluginmanager.register(Stress(), "zdtm-stress")


def fault_points(config: pytest.Config) -> list[str]:
    given = config.getoption("zdtm_fault_points")
    if not config.getoption("zdtm_fault_walk"):
        if given:
            raise pytest.UsageError("--fault-points needs --fault-walk")
        return []
    if config.getoption("zdtm_nocr") or config.getoption("zdtm_norst"):
        raise pytest.UsageError("--fault-walk needs C/R: not with --nocr or --norst")
    if "STASIS_FAULT" in os.environ:
        raise pytest.UsageError("--fault-walk sets STASIS_FAULT itself: unset it in the environment")
    from zdtm.engine_cli import NoFaultPoints
    from zdtm.faultwalk import default_points

    worker = getattr(config, "workerinput", {})
    if "zdtm_fault_points" in worker:  # the controller asked the engine and checked the option
        return list(worker["zdtm_fault_points"])
    try:
        known = default_points(config.zdtm_engine)  # type: ignore[attr-defined]
    except NoFaultPoints as e:
        raise pytest.UsageError(
            f"--fault-walk: the engine cannot list its fault points: {e}. "
            "The walk needs an engine with `check --fault-points` (and STASIS_FAULT)"
        ) from None
    if not given:
        return known
    points = [p for p in given.split(",") if p]
    bad = [p for p in points if p not in known]
    if bad:
        raise pytest.UsageError(f"--fault-points: unknown {bad}; the engine's points: {','.join(known)}")
    return points


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:  # noqa: ANN001 (xdist's WorkerController)
    """xdist: the workers get the fault points the controller got from the engine (asked once)."""
    node.workerinput["zdtm_fault_points"] = node.config.zdtm_fault_points


def pytest_report_header(config: pytest.Config) -> str:
    mode = "nocr" if config.getoption("zdtm_nocr") else f"C/R x{config.getoption('zdtm_iters')}"
    if config.getoption("zdtm_norst"):
        mode += " (norst)"
    if config.zdtm_fault_points:
        mode = f"fault walk of {len(config.zdtm_fault_points)} points"
    flavors = ",".join(config.option.zdtm_flavors)
    return f"zdtm: {mode}, flavors {flavors}, engine: {shlex.join(config.zdtm_engine)}"


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    group = group_for(file_path, parent.config.rootpath)
    if group is None:
        return None
    return ProgramFile.from_parent(parent, path=file_path, group=group)


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:  # noqa: ANN001
    """--count: the items that failed in some of their runs but not all (with xdist, from the reports)."""
    flaky = []
    for rep in terminalreporter.stats.get("failed", []):
        props = dict(getattr(rep, "user_properties", []))
        if "zdtm_flaky" in props:
            flaky.append(f"  {rep.nodeid}: {props['zdtm_flaky']} runs failed")
    if config.getoption("zdtm_count") > 1:
        terminalreporter.section("zdtm flaky items")
        none = "  none: every item passed in all its runs or failed in all of them"
        terminalreporter.write_line("\n".join(flaky) if flaky else none)
