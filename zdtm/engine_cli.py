"""The engine's command line, exactly as upstream zdtm.py drives criu (zdtm-protocol.md §5)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ENGINE_TIMEOUT = 60  # upstream's hard limit per invocation


@dataclass
class EngineRun:
    argv: list[str]
    returncode: int | None  # None: timed out and killed
    log: Path  # the engine's --log-file, relative to the images dir as in CRIU

    @property
    def killed_by_signal(self) -> bool:
        return self.returncode is not None and self.returncode < 0

    def describe(self) -> str:
        if self.returncode is None:
            return f"timed out after {ENGINE_TIMEOUT} s"
        if self.returncode < 0:
            return f"killed by signal {-self.returncode}"
        return f"exit {self.returncode}"


def dump_argv(
    engine: list[str],
    images: str,
    tree: int,
    pidfile: Path,
    opts: tuple[str, ...],
    dopts: tuple[str, ...],
    flavor_opts: tuple[list[str], list[str]],
    leave_running: bool,
    log: str = "dump.log",
    action: str = "dump",
    extra: tuple[str, ...] = (),
) -> list[str]:
    pre, post = flavor_opts
    argv = [
        *engine,
        action,
        "--no-default-config",
        "--log-file",
        log,
        "--images-dir",
        images,
        "--verbosity=4",
        "--tree",
        str(tree),
        *opts,
        "--pidfile",
        str(pidfile),
        *pre,
        *dopts,
        *post,
        "--timeout",
        "10",
        "--pre-dump-mode",
        "splice",
        *extra,
    ]
    if leave_running and action == "dump":
        argv.append("--leave-running")
    return argv


def restore_argv(
    engine: list[str],
    images: str,
    pidfile: Path,
    opts: tuple[str, ...],
    ropts: tuple[str, ...],
    flavor_opts: tuple[list[str], list[str]],
    log: str = "restore.log",
) -> list[str]:
    pre, post = flavor_opts
    return [
        *engine,
        "restore",
        "--no-default-config",
        "--log-file",
        log,
        "--images-dir",
        images,
        "--verbosity=4",
        *opts,
        "--pidfile",
        str(pidfile),
        *pre,
        *ropts,
        *post,
        "--restore-detached",
    ]


def check_argv(engine: list[str], feature: str) -> list[str]:
    return [
        *engine,
        "check",
        "--no-default-config",
        "--no-default-config",
        "-verbosity=0",
        "--feature",
        feature,
    ]


def fault_points_argv(engine: list[str]) -> list[str]:
    return [*engine, "check", "--no-default-config", "--fault-points"]


class NoFaultPoints(Exception):
    """The engine cannot list its fault points (no `check --fault-points`, or it failed)."""


def fault_points(engine: list[str]) -> list[str]:
    """The engine's fault points as `<engine> check --fault-points` prints them: one per line, dump points
    then restore points, in the order the engine passes them."""
    argv = fault_points_argv(engine)
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=ENGINE_TIMEOUT, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise NoFaultPoints(f"`{' '.join(argv)}`: {e}") from None
    points = [line.strip() for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0:
        why = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or [""]
        raise NoFaultPoints(f"`{' '.join(argv)}` exit {proc.returncode}: {why[0]}")
    bad = [p for p in points if not p.startswith(("dump:", "restore:"))]
    if not points or bad:
        raise NoFaultPoints(
            f"`{' '.join(argv)}` printed {'no fault points' if not points else f'non-points {bad[:3]}'}"
            " (expected one dump:/restore: point per line)"
        )
    return points


def run(
    argv: list[str], cwd: Path, images: Path, log_name: str, output: Path, env: dict[str, str] | None = None,
    user: Callable[[], None] | None = None,
) -> EngineRun:
    """Run one engine action; its stdout/stderr are appended to `output`. `env`: extra variables for the
    engine process only (the fault walk's STASIS_FAULT); `user`: what the engine's process runs before its
    exec (--unpriv: zdtm.unpriv.preexec, the programs' uid with two capabilities)."""
    (images / f"{argv[argv.index('--no-default-config') - 1]}.cropt").write_text(" ".join(argv) + "\n")
    extra = " ".join(f"{k}={v}" for k, v in (env or {}).items())
    with open(output, "ab") as out:
        out.write(f"$ {extra + ' ' if extra else ''}{' '.join(argv)}\n".encode())
        out.flush()
        # close_fds=False as upstream: the engine sees whatever the harness could leak, and must not keep it
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            close_fds=False,
            env={**os.environ, **(env or {})},
            preexec_fn=user,
        )
        try:
            rc: int | None = proc.wait(ENGINE_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            rc = None
    return EngineRun(argv, rc, images / log_name)
