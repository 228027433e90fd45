"""`stasis service --address PATH`: criu's daemon mode. A SOCK_SEQPACKET socket (mode 0666, as criu:
access control is the file system's), a worker forked per connection running one RPC session
(engine/rpc/server.py, swrk-only options refused). The engine's modules are imported before the
first connection, so a request pays neither the interpreter's start-up nor the imports."""

from __future__ import annotations

import os
import signal
import socket
import sys
from types import FrameType

from engine import log as logmod
from engine.log import log


def _warm() -> None:
    """What a dump or a restore imports, imported once here (workers inherit it)."""
    import engine.check  # noqa: F401
    import engine.dump  # noqa: F401
    import engine.restore  # noqa: F401
    from engine.images.pb import criu_rpc_pb2  # noqa: F401
    from engine.objects.base import Phase
    from engine.objects.registry import OBJECTS, stages

    for p in Phase:
        stages(p)
    assert OBJECTS


def _parse(argv: list[str]) -> dict[str, str | bool | None]:
    """criu service [--address PATH] [--daemon] [--pidfile F] [-o LOG] [-W DIR] [-vN]"""
    out: dict[str, str | bool | None] = {"address": "criu_service.socket", "daemon": False, "pidfile": None,
                                         "log_file": None, "work_dir": None, "verbosity": "2"}
    names = {"--address": "address", "--pidfile": "pidfile", "-o": "log_file", "--log-file": "log_file",
             "-W": "work_dir", "--work-dir": "work_dir", "-v": "verbosity", "--verbosity": "verbosity"}
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--daemon" or a == "-d":
            out["daemon"] = True
            continue
        if a.startswith("-v") and a[2:].isdigit():
            out["verbosity"] = a[2:]
            continue
        key, eq, val = a.partition("=")
        if key not in names:
            raise SystemExit(f"stasis service: unknown option {a}")
        if not eq:
            if i >= len(argv):
                raise SystemExit(f"stasis service: {a} needs a value")
            val = argv[i]
            i += 1
        out[names[key]] = val
    return out


_EXITED: list[tuple[int, int]] = []  # (pid, status) of workers reaped by the handler, logged by the loop


def _reap(signum: int, frame: FrameType | None) -> None:
    """SIGCHLD: reap only. Logging here could re-enter the log file's buffered write the main loop is in
    the middle of (a RuntimeError that killed the service), so the loop logs what was reaped."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _EXITED.append((pid, status))


def _log_exited() -> None:
    while _EXITED:
        pid, status = _EXITED.pop(0)
        if os.WIFSIGNALED(status):
            log.warning("Worker(pid %d) was killed by %d", pid, os.WTERMSIG(status))
        else:
            log.info("Worker(pid %d) exited with %d", pid, os.waitstatus_to_exitcode(status))


def main(argv: list[str]) -> int:
    args = _parse(argv)
    work = str(args["work_dir"]) if args["work_dir"] else "."
    if args["log_file"]:
        try:
            logmod.setup(os.path.join(work, str(args["log_file"])), int(str(args["verbosity"])))
        except OSError as exc:
            sys.stderr.write(f"stasis service: cannot open log file: {exc}\n")
            return 1
    else:
        logmod.setup(None, min(int(str(args["verbosity"])), 2))
    address = str(args["address"])
    if not os.path.isabs(address):
        log.warning("service socket %s is relative to %s", address, os.getcwd())
    _warm()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        if os.path.exists(address) and not os.path.isdir(address):
            os.unlink(address)  # a stale socket
        sock.bind(address)
        os.chmod(address, 0o666)
        sock.listen(16)
    except OSError as exc:
        sys.stderr.write(f"stasis service: {address}: {exc.strerror}\n")
        return 1
    if args["daemon"]:
        if os.fork():
            os._exit(0)
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)
        if log.out is sys.stderr:
            log.out = None
    if args["pidfile"]:
        with open(str(args["pidfile"]), "w") as f:
            f.write(f"{os.getpid()}\n")
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGTERM, lambda s, f: _stop(sock, address))
    log.info("stasis service listening on %s (pid %d)", address, os.getpid())
    while True:
        conn, _ = sock.accept()
        _log_exited()
        pid = os.fork()
        if pid == 0:
            _worker(sock, conn)
        conn.close()
        log.info("connection: worker %d", pid)
        _log_exited()


def _worker(listener: socket.socket, conn: socket.socket) -> None:
    from engine.rpc.server import Session, quiet_stdio

    quiet_stdio()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    listener.close()
    rc = 1
    try:
        rc = Session(conn, service=True).serve()
    finally:
        log.close()
        os._exit(rc)


def _stop(sock: socket.socket, address: str) -> None:
    """SIGTERM: the socket goes and the service ends. No logging from the handler (it may interrupt the
    log's own write: see _reap); every line logged before is flushed already."""
    sock.close()
    try:
        os.unlink(address)
    except OSError:
        pass
    os._exit(0)
