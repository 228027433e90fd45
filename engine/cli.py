"""The `stasis` command line, spelled like criu's so that criu-driving tools (ZDTM) work unchanged."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, NoReturn

from engine import log as logmod
from engine.errors import StasisError
from engine.log import log

if TYPE_CHECKING:
    import argparse

ACTIONS = ("check", "dedup", "dump", "pre-dump", "restore", "show")


# The options, once: argparse is built from them (help, errors, odd spellings) and so is the fast
# path that parses the common command lines without importing argparse (~2.5 ms) or building a
# parser (~1.2 ms). (flags, dest, kind, default, choices, help); kind: str int float flag append.
OPTIONS: tuple[tuple[tuple[str, ...], str, str, Any, tuple[str, ...] | None, str | None], ...] = (
    (("--no-default-config",), "no_default_config", "flag", False, None, "accepted: stasis reads no config"),
    (("-D", "--images-dir"), "images_dir", "str", ".", None, None),
    (("-W", "--work-dir"), "work_dir", "str", None, None, None),
    (("-o", "--log-file"), "log_file", "str", None, None, None),
    (("-v", "--verbosity"), "verbosity", "int", 2, None, None),
    (("-t", "--tree"), "tree", "int", None, None, None),
    (("--pidfile",), "pidfile", "str", None, None, None),
    (("-R", "--leave-running"), "leave_running", "flag", False, None, None),
    (("-d", "--restore-detached"), "restore_detached", "flag", False, None, None),
    (("-j", "--shell-job"), "shell_job", "flag", False, None, None),
    (("-l", "--file-locks"), "file_locks", "flag", False, None,
     "dump: the tree's flock, POSIX and OFD locks (without it a held lock is refused)"),
    (("--io-uring",), "io_uring", "flag", False, None,
     "dump: idle io_uring instances (their setup flags but the sizes, a registered eventfd, provided buffers "
     "and restrictions are not visible from outside and are not kept)"),
    (("--ghost-limit",), "ghost_limit", "str", "1M", None,
     "dump: the most data (bytes, K, M, G) a deleted file may hold to be saved with its content (1M)"),
    (("--tcp-established",), "tcp_established", "flag", False, None,
     "dump: established TCP connections, through TCP_REPAIR (without it one is refused)"),
    (("--tcp-close",), "tcp_close", "flag", False, None,
     "dump established TCP connections, restore them closed (the program sees a reset connection)"),
    (("--skip-in-flight", "--tcp-skip-in-flight"), "skip_in_flight", "flag", False, None,
     "dump: forget connections that wait in a TCP listener's queue instead of refusing"),
    (("--ext-unix-sk",), "ext_unix_sk", "flag", False, None,
     "dump: accept unix sockets whose peer is outside the tree (reconnected at restore by name)"),
    (("--network-lock",), "network_lock", "str", "nftables", ("nftables", "skip", "iptables"),
     "how peers of TCP connections are kept away between dump and restore (nftables; skip: not at all)"),
    (("--inherit-fd",), "inherit_fd", "append", None, None,
     "restore: fd[N]:RESOURCE - the caller's fd N stands for that file of the images (pipe:[ino] "
     "or a path), as in criu"),
    (("--join-ns",), "join_ns", "append", None, None,
     "restore: NS:{PID|NS_FILE}[,EXTRA_OPTS] - the tree joins that namespace (net, uts, ipc, mnt, time) "
     "instead of a new one; its dumped state is not written there (criu's option)"),
    (("--sign-key",), "sign_key", "str", None, None,
     "dump: sign the images' digests with this key file (HMAC-SHA256; at least 16 bytes)"),
    (("--verify-key",), "verify_key", "str", None, None,
     "restore: refuse images whose signature does not verify with this key file"),
    (("--unprivileged",), "unprivileged", "flag", False, None,
     "run as a non-root user with CAP_CHECKPOINT_RESTORE (and CAP_SYS_PTRACE): what needs more is refused, "
     "and restore gives the tree at most the caller's own credentials, capabilities and files"),
    (("--manage-cgroups",), "manage_cgroups", "str", None, None,
     "cgroups: MODE none (the default: enter existing cgroups), props, soft (the mode without =MODE), full, "
     "strict or ignore, as in criu"),
    (("--cgroup-root",), "cgroup_root", "append", None, None,
     "restore: [controller:]/path - the dumped cgroups of that controller (of all without one; v2 is '') "
     "go under /path"),
    (("--timeout",), "timeout", "float", 10.0, None, None),
    (("--pre-dump-mode",), "pre_dump_mode", "str", "splice", ("splice", "read"),
     "pre-dump: accepted as criu's (both modes read the pages while the tree is frozen)"),
    (("--track-mem",), "track_mem", "flag", False, None,
     "dump, pre-dump: leave dirty-page tracking armed, so a dump with this one as --prev-images-dir writes "
     "only the pages changed since (userfaultfd write-protection, soft-dirty, or comparing: stasis check)"),
    (("--auto-dedup",), "auto_dedup", "flag", False, None,
     "dump, pre-dump: punch holes in the parent images' pages this dump has anew (as `stasis dedup`)"),
    (("--prev-images-dir",), "prev_images_dir", "str", None, None,
     "dump, pre-dump: the parent images (relative to --images-dir): unchanged pages are the parent's "
     "(criu's in_parent entries and `parent` link)"),
    (("--root",), "root", "str", None, None, None),
    (("--external",), "external", "append", None, None, None),
    (("--feature",), "feature", "str", None, None, None),
    (("--all",), "all", "flag", False, None, "check: probe every feature"),
    (("--fault-points",), "fault_points", "flag", False, None,
     "check: print the engine's fault points (STASIS_FAULT values), one per line"),
    (("--stages",), "stages", "flag", False, None, "check: print the restore stages in their order"),
)
_TYPES: dict[str, Callable[[str], Any]] = {"str": str, "int": int, "float": float, "append": str}


def _parser() -> argparse.ArgumentParser:
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:  # argparse exits 2 with usage; criu users expect 1
            m = re.search(r"unrecognized arguments: (\S+)", message)
            if m:
                message = f"option {m[1]} is not supported (yet) by stasis"
            sys.stderr.write(f"stasis: {message}\n")
            raise SystemExit(1)

    p = Parser(prog="stasis", description="Checkpoint/restore of Linux processes (CRIU-compatible images)")
    p.add_argument("action", choices=ACTIONS)
    p.add_argument("target", nargs="?", help="show: an image file or directory")
    p.add_argument("--version", action="version", version=f"stasis {_version()}")
    for flags, dest, kind, default, choices, help_ in OPTIONS:
        if kind == "flag":
            p.add_argument(*flags, dest=dest, action="store_true", help=help_)
        elif kind == "append":
            p.add_argument(*flags, dest=dest, action="append", default=[], help=help_)
        else:
            p.add_argument(*flags, dest=dest, type=_TYPES[kind], default=default, choices=choices, help=help_)
    return p


def fast_parse(argv: list[str]) -> SimpleNamespace | None:
    """What _parser().parse_args(argv) gives, for plain command lines; None when argparse must decide
    (help, --version, errors, abbreviations, bundled flags, values that start with '-')."""
    by_flag = {f: o for o in OPTIONS for f in o[0]}
    ns = SimpleNamespace(action=None, target=None,
                         **{o[1]: ([] if o[2] == "append" else o[3]) for o in OPTIONS})
    positionals: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if not a.startswith("-") or a == "-":
            positionals.append(a)
            continue
        value: str | None = None
        flag = a
        if a.startswith("--") and "=" in a:
            flag, value = a.split("=", 1)
        elif not a.startswith("--") and len(a) > 2:
            flag, value = a[:2], a[2:]
        opt = by_flag.get(flag)
        if opt is None:
            return None
        _, dest, kind, _, choices, _ = opt
        if kind == "flag":
            if value is not None:
                return None
            setattr(ns, dest, True)
            continue
        if value is None:
            if i >= len(argv) or argv[i].startswith("-"):
                return None
            value = argv[i]
            i += 1
        try:
            v = _TYPES[kind](value)
        except ValueError:
            return None
        if choices is not None and v not in choices:
            return None
        if kind == "append":
            getattr(ns, dest).append(v)
        else:
            setattr(ns, dest, v)
    if not 1 <= len(positionals) <= 2 or positionals[0] not in ACTIONS:
        return None
    ns.action = positionals[0]
    ns.target = positionals[1] if len(positionals) > 1 else None
    return ns


def parse_args(argv: list[str]) -> Any:
    return fast_parse(argv) or _parser().parse_args(argv)


def _version() -> str:
    from engine import __version__

    return __version__


def normalize(argv: list[str]) -> list[str]:
    """criu quirks: `-verbosity=0` (one dash), `-v4`, bare `-v`/`-vvv` (count), `--manage-cgroups` without
    a mode (soft)."""
    out: list[str] = []
    for a in argv:
        if a == "--manage-cgroups":
            out.append("--manage-cgroups=soft")
            continue
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

    if "threading" in sys.modules and sys.modules["threading"].active_count() > 1:
        sys.exit(rc)  # a thread still runs: let the interpreter join it
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(rc)  # under a profiler or tracer (cProfile, coverage): it writes its data after main
    atexit._run_exitfuncs()
    logmod.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            rc = rc or 1
    os._exit(rc)


def _main(argv: list[str] | None) -> int:
    raw = sys.argv[1:] if argv is None else argv
    if raw[:1] == ["swrk"]:  # criu's RPC, on an fd the caller handed down (nothing printed)
        from engine.rpc.server import swrk

        return swrk(raw[1:])
    if raw[:1] == ["service"]:  # criu's RPC daemon on a listening socket
        from engine.rpc.service import main as service

        return service(raw[1:])
    args = parse_args(normalize(raw))
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


def _run(args: Any) -> int:
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
    if args.action == "dedup":
        from pathlib import Path

        from engine.objects.pagechain import dedup

        print(f"{dedup(Path(args.images_dir), args.sign_key) >> 10} KiB punched in the parent images")
        return 0
    if args.action in ("dump", "pre-dump"):
        from engine.context import DumpOptions
        from engine.dump import dump

        if args.tree is None:
            raise StasisError(f"{args.action} needs -t/--tree PID")
        dump(DumpOptions(root=_root(args), ext_mounts=_ext_mounts(args, dump=True),
                         ext_netns=_ext_netns(args, dump=True),
                         ext_veths=tuple(n for n, _ in _ext_veths(args, dump=True)), tree=args.tree,
                         images_dir=args.images_dir, leave_running=args.leave_running,
                         shell_job=args.shell_job, timeout=args.timeout, file_locks=args.file_locks,
                         io_uring=args.io_uring, ghost_limit=_ghost_limit(args.ghost_limit),
                         tcp_established=args.tcp_established or args.tcp_close,
                         tcp_close=args.tcp_close, skip_in_flight=args.skip_in_flight,
                         ext_unix_sk=args.ext_unix_sk, network_lock=args.network_lock,
                         sign_key=args.sign_key, manage_cgroups=_cg_mode(args),
                         pre_dump=args.action == "pre-dump", track_mem=args.track_mem,
                         prev_images_dir=args.prev_images_dir, pre_dump_mode=args.pre_dump_mode,
                         unprivileged=args.unprivileged))
        if args.auto_dedup and args.prev_images_dir:
            from pathlib import Path

            from engine.objects.pagechain import dedup

            dedup(Path(args.images_dir), args.sign_key)
        return 0
    from engine.context import RestoreOptions
    from engine.restore import restore

    _ext_netns(args, dump=False)
    return restore(RestoreOptions(root=_root(args), ext_mounts=_ext_mounts(args, dump=False),
                                  ext_veths=_ext_veths(args, dump=False),
                                  images_dir=args.images_dir, pidfile=args.pidfile,
                                  detached=args.restore_detached, shell_job=args.shell_job,
                                  tcp_established=args.tcp_established, tcp_close=args.tcp_close,
                                  ext_unix_sk=args.ext_unix_sk, network_lock=args.network_lock,
                                  inherit_fds=_inherit_fds(args.inherit_fd), verify_key=args.verify_key,
                                  join_ns=_join_ns(args.join_ns or []),
                                  manage_cgroups=_cg_mode(args), cgroup_roots=_cg_roots(args),
                                  unprivileged=args.unprivileged))


def _join_ns(specs: list[str]) -> tuple[tuple[str, str, str], ...]:
    from engine.objects import joinns

    return joinns.parse_all([joinns.parse_arg(s) for s in specs])



def _cg_mode(args: Any) -> str | None:
    from engine.objects.cgroup import MODES

    mode = args.manage_cgroups
    if mode is not None and mode not in MODES:
        raise StasisError(f"--manage-cgroups={mode}: expected one of {', '.join(MODES)}")
    if args.action == "dump" and args.cgroup_root:
        log.warning("--cgroup-root at dump: stasis dumps the groups at and below each process's own (criu "
                    "would also keep the groups between the new root and them); ignored")
    return str(mode) if mode is not None else None


def _cg_roots(args: Any) -> tuple[tuple[str | None, str], ...]:
    """criu's --cgroup-root [controller:]/path; ':/path' names cgroup v2."""
    out: list[tuple[str | None, str]] = []
    for spec in args.cgroup_root or ():
        ctl, sep, path = spec.partition(":")  # criu: up to the first ':'
        if not sep:
            ctl, path = "", spec
        if not path.startswith("/"):
            raise StasisError(f"--cgroup-root {spec}: expected [controller:]/path")
        out.append((ctl if sep else None, path))
    return tuple(out)


def _inherit_fds(specs: list[str]) -> tuple[tuple[int, str], ...]:
    """criu's fd[N]:RESOURCE; N must be open in the engine."""
    out = []
    for spec in specs:
        m = re.fullmatch(r"fd\[(\d+)\]:(.+)", spec)
        if not m:
            raise StasisError(f"--inherit-fd {spec}: expected fd[N]:RESOURCE")
        num = int(m[1])
        try:
            os.fstat(num)
        except OSError:
            raise StasisError(f"--inherit-fd {spec}: fd {num} is not open") from None
        out.append((num, m[2]))
    return tuple(out)


def _ghost_limit(text: str) -> int:
    from engine.objects.files.ghost import parse_limit

    try:
        return parse_limit(text)
    except ValueError as exc:
        raise StasisError(str(exc)) from None


def _root(args: Any) -> str | None:
    if not args.root:
        return None
    if not os.path.isdir(args.root):
        raise StasisError(f"--root {args.root}: not a directory")
    return os.path.realpath(args.root)


def _ext_netns(args: Any, dump: bool) -> tuple[tuple[int, str], ...]:
    """criu's --external net[INODE]:KEY at dump: the tree's network namespace (that inode) is not dumped; at
    restore --inherit-fd fd[N]:KEY gives the one to restore into."""
    out = []
    for spec in args.external or ():
        if not spec.startswith("net["):
            continue
        m = re.fullmatch(r"net\[(\d+)\]:(\S+)", spec)
        if not m:
            raise StasisError(f"--external {spec}: expected net[INODE]:KEY")
        if not dump:
            raise StasisError(f"--external {spec}: a dump option (at restore: --inherit-fd fd[N]:{m[2]})")
        out.append((int(m[1]), m[2]))
    return tuple(out)


def _ext_veths(args: Any, dump: bool) -> tuple[tuple[str, str], ...]:
    """criu's --external veth[IFNAME]:OUTNAME: IFNAME is the veth in the tree's network namespace whose peer
    is outside; at restore OUTNAME names the new peer, made in the engine's network namespace (at dump
    `veth[IFNAME]` alone is enough)."""
    out = []
    for spec in args.external or ():
        if not spec.startswith("veth["):
            continue
        m = re.fullmatch(r"veth\[([^\]/\s]{1,15})\](?::([^/\s]{1,15}))?", spec)
        if not m or (not dump and not m[2]):
            raise StasisError(f"--external {spec}: expected veth[IFNAME]:OUTNAME")
        out.append((m[1], m[2] or ""))
    return tuple(out)


def _ext_mounts(args: Any, dump: bool) -> tuple[tuple[str, str], ...]:
    """criu's --external mnt[A]:B: at dump A is a mount point inside the tree's mount namespace and B its
    key; at restore A is the key and B the path (in the engine's namespace) to bind there."""
    out = []
    for spec in args.external or ():
        if spec.startswith(("veth[", "net[")):
            continue
        m = re.fullmatch(r"mnt\[([^\]]+)\]:(.+)", spec)
        if not m:
            raise StasisError(f"--external {spec}: only mnt[...]:..., veth[...] and net[...]:... external "
                              "resources are supported")
        if not dump and not os.path.exists(m[2]):
            raise StasisError(f"--external {spec}: {m[2]} does not exist")
        out.append((m[1], m[2]))
    return tuple(out)
