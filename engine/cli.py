"""The `stasis` command line, spelled like criu's so that criu-driving tools (ZDTM) work unchanged."""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import NoReturn

from engine import log as logmod
from engine.errors import StasisError
from engine.log import log

ACTIONS = ("check", "dump", "restore", "show")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 with usage; criu users expect 1
        m = re.search(r"unrecognized arguments: (\S+)", message)
        if m:
            message = f"option {m[1]} is not supported (yet) by stasis"
        sys.stderr.write(f"stasis: {message}\n")
        raise SystemExit(1)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="stasis", description="Checkpoint/restore of Linux processes (CRIU-compatible images)")
    p.add_argument("action", choices=ACTIONS)
    p.add_argument("target", nargs="?", help="show: an image file or directory")
    p.add_argument("--version", action="version", version=f"stasis {_version()}")
    p.add_argument("--no-default-config", action="store_true", help="accepted: stasis reads no config")
    p.add_argument("-D", "--images-dir", default=".")
    p.add_argument("-W", "--work-dir")
    p.add_argument("-o", "--log-file")
    p.add_argument("-v", "--verbosity", type=int, default=2)
    p.add_argument("-t", "--tree", type=int)
    p.add_argument("--pidfile")
    p.add_argument("-R", "--leave-running", action="store_true")
    p.add_argument("-d", "--restore-detached", action="store_true")
    p.add_argument("-j", "--shell-job", action="store_true")
    p.add_argument("-l", "--file-locks", action="store_true", help="dump: file locks (refused until they "
                   "are restored)")
    p.add_argument("--ghost-limit", default="1M", help="dump: the most data (bytes, K, M, G) a deleted "
                   "file may hold to be saved with its content (criu's option; 1M by default)")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--pre-dump-mode", choices=("splice", "read"), default="splice")
    p.add_argument("--root")
    p.add_argument("--external", action="append", default=[])
    p.add_argument("--feature")
    p.add_argument("--all", action="store_true", help="check: probe every feature")
    p.add_argument("--fault-points", action="store_true",
                   help="check: print the engine's fault points (STASIS_FAULT values), one per line")
    p.add_argument("--stages", action="store_true", help="check: print the restore stages in their order")
    return p


def _version() -> str:
    from engine import __version__

    return __version__


def normalize(argv: list[str]) -> list[str]:
    """criu quirks: `-verbosity=0` (one dash), `-v4`, bare `-v`/`-vvv` (count)."""
    out: list[str] = []
    for a in argv:
        if a.startswith("-verbosity"):
            a = "-" + a
        m = re.fullmatch(r"-(v+)", a)
        if m:
            out.append(f"--verbosity={2 + len(m[1])}")
            continue
        m = re.fullmatch(r"-v(\d)", a)
        out.append(f"--verbosity={m[1]}" if m else a)
    return out


def main(argv: list[str] | None = None) -> int:
    rc = _main(argv)
    if argv is None:  # the real command line (`stasis`, `python -m engine`): end the process now
        _exit(rc)
    return rc


def _exit(rc: int) -> None:
    """Exit without the interpreter's finalization (tearing down a few hundred modules costs more than a
    small dump's work): what it would do that matters is done here first (atexit handlers such as
    coverage's, the log file, stdio)."""
    import atexit
    import logging

    if "threading" in sys.modules and sys.modules["threading"].active_count() > 1:
        sys.exit(rc)  # a thread still runs: let the interpreter join it
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(rc)  # under a profiler or tracer (cProfile, coverage): it writes its data after main
    atexit._run_exitfuncs()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            rc = rc or 1
    os._exit(rc)


def _main(argv: list[str] | None) -> int:
    args = _parser().parse_args(normalize(sys.argv[1:] if argv is None else argv))
    work = args.work_dir or args.images_dir
    log_path = os.path.join(work, args.log_file) if args.log_file else None
    if log_path:
        try:
            logmod.setup(log_path, args.verbosity)
        except OSError as exc:
            sys.stderr.write(f"stasis: cannot open log file {log_path}: {exc.strerror}\n")
            return 1
    else:
        logmod.setup(None, min(args.verbosity, 2))
    log.info("stasis %s %s", _version(), " ".join(sys.argv[1:] if argv is None else argv))
    try:
        return _run(args)
    except StasisError as exc:
        log.error("%s", exc)
        sys.stderr.write(f"stasis {args.action}: {exc}\n")
        return 1
    except Exception as exc:  # a bug or an unexpected system error: one line here, the trace in the log
        log.exception("internal error")
        where = f" (details in {log_path})" if log_path else ""
        sys.stderr.write(f"stasis {args.action}: internal error: {exc}{where}\n")
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.action == "show":
        from engine.images.show import show_json

        if not args.target:
            raise StasisError("show needs an image file or directory")
        print(show_json(args.target))
        return 0
    if args.action == "check":
        if args.stages:
            from engine.objects.base import Phase
            from engine.objects.registry import stages

            for phase in Phase:
                for stage in stages(phase):
                    print(f"{phase.name.lower():8} {stage.name:16} {stage.doc}".rstrip())
            return 0
        if args.fault_points:
            from engine.check import fault_points

            print("\n".join(fault_points()))
            return 0
        from engine import check

        return check.run(args.feature, verbose=True)
    if args.action == "dump":
        from engine.context import DumpOptions
        from engine.dump import dump

        if args.tree is None:
            raise StasisError("dump needs -t/--tree PID")
        _refuse_externals(args)
        dump(DumpOptions(tree=args.tree, images_dir=args.images_dir, leave_running=args.leave_running,
                         shell_job=args.shell_job, timeout=args.timeout, file_locks=args.file_locks,
                         ghost_limit=_ghost_limit(args.ghost_limit)))
        return 0
    from engine.context import RestoreOptions
    from engine.restore import restore

    _refuse_externals(args)
    return restore(RestoreOptions(images_dir=args.images_dir, pidfile=args.pidfile,
                                  detached=args.restore_detached, shell_job=args.shell_job))


def _ghost_limit(text: str) -> int:
    from engine.objects.files.ghost import parse_limit

    try:
        return parse_limit(text)
    except ValueError as exc:
        raise StasisError(str(exc)) from None


def _refuse_externals(args: argparse.Namespace) -> None:
    if args.external:
        raise StasisError(f"--external {args.external[0]}: external resources are not supported yet")
    if args.root:
        raise StasisError("--root: restoring into another root needs mount namespace support (not yet)")
