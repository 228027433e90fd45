"""Real programs (the real/ group): programs nobody wrote for Stasis, checkpointed mid-work and verified after
restore by their own output.

A real program is one file, real/<name>.py, that defines `PROGRAM = Real(...)`: how to start it, how far it
got (a number that grows while it works, e.g. the lines of its output file), when it is mid-work (that
number grew by `mid_work`), how to end it (a signal to the root, or a file it looks for) and how to verify
its output once it ended. The harness imports that file; helper scripts live in real/progs/ (not collected).
The cycle is the one of static/ and transition/ programs (zdtm.cycle); only the program differs (RealProgram).

A server is driven by a client instead: `argv` may be a function of the work dir (it writes the server's own
config there, with ports chosen free at run time), `ready` says when it serves, and `client` is run at
every settle (after the start, before each dump, after each restore): it talks to the server as a real
client does (the server's own CLI tool, curl, a few lines of Python), checks what the earlier rounds
stored and stores more. A `peer` is a process outside the tree (a child of the harness, never dumped) that
the program talks to, e.g. the server end of a TCP connection kept across C/R.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from zdtm import state
from zdtm.procs import alive, wait_gone
from zdtm.program import ProgramSpec, StepFailure, read_pid

# real programs make no namespaces of their own (the C test library does that for ns/uns)
FLAVORS = ("h",)
NS_SKIP = "real programs run in flavor h only for now (ns/uns need the harness to make the namespaces)"


@dataclass(frozen=True, kw_only=True)
class Real:
    # run as root with cwd = the work dir, stdin /dev/null, stdout/stderr to files there; a function of the
    # work dir is called once at the start (to write config files, pick free ports) and returns the argv
    argv: list[str] | Callable[[Path], list[str]]
    verify: Callable[[Path], list[str]]  # once it ended: the problems in its output, [] if all is right
    progress: Callable[[Path], int] | None = (
        None  # how far it got, read from the work dir; grows while it works
    )
    mid_work: int = 50  # dump once progress grew by this much since the start or the last restore
    ready: Callable[[Path], bool] | None = None  # polled after the start until true (the server serves)
    # run at every settle, round 0, 1, ... (after progress grew by mid_work): the problems seen, [] if none
    client: Callable[[Path, int], list[str]] | None = None
    peer: Callable[[Path], list[str]] | None = None  # argv of a process outside the tree (see start_peer)
    peer_after_ready: bool = False  # start the peer once the program is ready (a client of it), not first
    needs: tuple[str, ...] = ()  # commands it needs: the item is skipped if one is not installed
    stop: str = "SIGTERM"  # a signal name sent to the root, or "file:NAME" to create in the work dir
    timeout: int = 30  # seconds for each wait: mid-work, the end after stop
    check_state: bool = False  # compare the visible state across C/R (only for a program that holds still)
    env: dict[str, str] = field(default_factory=dict)
    opts: list[str] = field(default_factory=list)  # engine options for dump and restore (the desc's opts)
    # a launcher (a container tool): given the work dir and the started pid, the pid of the tree to dump
    # (e.g. the container's init), once the launcher is out of its way; the harness follows that pid
    root: Callable[[Path, int], int] | None = None


def module(path: Path) -> ModuleType:
    """Import a descriptor file (also one descriptor's code from another: real/tcpstream_ext.py)."""
    modname = f"zdtm_real_{path.stem}"
    if modname in sys.modules:
        return sys.modules[modname]
    spec = importlib.util.spec_from_file_location(modname, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path}: cannot be imported")
    mod = importlib.util.module_from_spec(spec)
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # no __pycache__ in real/
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.dont_write_bytecode = dont_write
    sys.modules[modname] = mod
    return mod


def load(path: Path) -> Real:
    """Import real/<name>.py and return its PROGRAM."""
    program = getattr(module(path), "PROGRAM", None)
    if not isinstance(program, Real):
        raise ImportError(f"{path}: defines no PROGRAM = zdtm.real.Real(...)")
    return program


# helpers for descriptors

SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def command(name: str) -> str | None:
    """The path of an installed command (also in sbin, where nginx is), or None."""
    return shutil.which(name) or shutil.which(name, path=SBIN_PATH)


def missing(names: Iterable[str]) -> list[str]:
    return [n for n in names if command(n) is None]


def free_port() -> int:
    """A TCP port nobody listens on now (in the item's own network namespace)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    """Something accepts connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


TCP_LISTEN, TCP_TIME_WAIT = 0x0A, 0x06


def tcp_busy(port: int) -> list[str]:
    """The sockets on local port `port` of this network namespace that are neither listening nor in
    TIME_WAIT (a TIME_WAIT socket belongs to no process): a connection a client just closed that the
    server has not closed yet still holds an fd of the server."""
    busy = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for row in rows:
            f = row.split()
            local, remote, st = f[1], f[2], int(f[3], 16)
            ports = (int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16))
            if port in ports and st not in (TCP_LISTEN, TCP_TIME_WAIT):
                busy.append(f"{local}->{remote} state {st:#x}")
    return busy


def wait_tcp_idle(port: int, timeout: float = 10.0, keep: int = 0) -> list[str]:
    """Wait until the server on `port` holds no connection any more (its clients are done): so that a dump
    right after a client round sees the server between requests; `keep`: the sockets of connections that
    stay (both ends of each, when both are in this network namespace). The problems, [] once idle."""
    deadline = time.monotonic() + timeout
    while len(busy := tcp_busy(port)) != keep:
        if time.monotonic() > deadline:
            return [
                f"port {port}: {len(busy)} sockets, not {keep}, {timeout} s after the client ended: {busy}"
            ]
        time.sleep(0.02)
    return []


def run_client(argv: list[str], timeout: float = 20.0, stdin: str | None = None) -> tuple[int, str]:
    """Run a client command (a child of the harness, outside the tree); its exit status and output."""
    try:
        done = subprocess.run(
            argv,
            input=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            stdin=None if stdin is not None else subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return -1, f"{out}\n(timed out after {timeout} s)"
    return done.returncode, done.stdout


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
        self.peer_log = self.workdir / f"{spec.name}.peer"
        self.check_state = self.real.check_state
        self.pid = 0
        self.mark = 0  # progress at the last settle()
        self.round = 0  # the client's next round
        self.peer: subprocess.Popen[bytes] | None = None

    def progress(self) -> int:
        if self.real.progress is None:
            return 0
        try:
            return self.real.progress(self.workdir)
        except Exception as e:  # a descriptor's bug, or output it does not expect
            raise StepFailure("progress", f"the descriptor's progress() failed: {e!r}") from None

    def argv(self) -> list[str]:
        if not callable(self.real.argv):
            return self.real.argv
        try:
            return self.real.argv(self.workdir)
        except Exception as e:
            raise StepFailure("start", f"the descriptor's argv() failed: {e!r}") from None

    def start(self) -> None:
        env = {**os.environ, "TMPDIR": os.environ.get("TMPDIR", "/tmp"), **self.real.env}
        argv = self.argv()
        if self.real.peer is not None and not self.real.peer_after_ready:
            self.start_peer(env)
        with open(self.stderr, "ab") as err:
            err.write(f"$ {' '.join(argv)}\n".encode())
        self.pid = _spawn_daemon(argv, self.workdir, env, self.stdout, self.stderr)
        if self.real.root is not None:
            try:
                self.pid = self.real.root(self.workdir, self.pid)
            except StepFailure:
                raise
            except Exception as e:
                err = self.last_error()
                raise StepFailure("start", f"the descriptor's root() failed: {e!r}: {err}") from None
        self.pidfile.write_text(f"{self.pid}\n")
        self.mark = 0
        self.wait_ready()
        if self.real.peer is not None and self.real.peer_after_ready:
            self.start_peer(env)
        self.settle()

    def start_peer(self, env: dict[str, str]) -> None:
        """The peer is the harness's own child: outside the tree (no dump sees it: the tree is the root's
        descendants, and the h flavor's checks take the harness's children out), stopped by its pid. It
        is started before the program (a server the program connects to), or with peer_after_ready once
        the program is ready (a client of the program's server)."""
        assert self.real.peer is not None
        try:
            argv = self.real.peer(self.workdir)
        except Exception as e:
            raise StepFailure("start", f"the descriptor's peer() failed: {e!r}") from None
        with open(self.peer_log, "ab") as log:
            log.write(f"$ {' '.join(argv)}\n".encode())
            log.flush()
            self.peer = subprocess.Popen(
                argv, cwd=self.workdir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )

    def wait_ready(self) -> None:
        if self.real.ready is None:
            return
        deadline = time.monotonic() + self.real.timeout
        while not self.real.ready(self.workdir):
            if not alive(self.pid):
                raise StepFailure("start", f"pid {self.pid} died before it was ready: {self.last_error()}")
            if time.monotonic() > deadline:
                raise StepFailure("start", f"not ready after {self.real.timeout} s: {self.last_error()}")
            time.sleep(0.02)

    def settle(self) -> None:
        """Wait until the program has done `mid_work` more since the last time: mid-work before a dump,
        and proof that it went on working after a restore before the next dump or the stop; then the
        client's round (after a restore: the client finds what it stored before, and stores more)."""
        goal = self.mark + self.real.mid_work
        deadline = time.monotonic() + self.real.timeout
        while self.real.progress is not None and (now := self.progress()) < goal:
            if not alive(self.pid):
                raise StepFailure("mid-work", f"pid {self.pid} died at progress {now}: {self.last_error()}")
            if time.monotonic() > deadline:
                raise StepFailure(
                    "mid-work",
                    f"progress {now} after {self.real.timeout} s, waiting for {goal} "
                    f"(pid {self.pid} {'alive' if alive(self.pid) else 'dead'}): {self.last_error()}",
                )
            time.sleep(0.02)
        self.mark = self.progress()
        if self.real.client is not None:
            self.client_round()

    def client_round(self) -> None:
        assert self.real.client is not None
        if not alive(self.pid):
            raise StepFailure("client", f"pid {self.pid} died before client round {self.round}")
        try:
            problems = self.real.client(self.workdir, self.round)
        except Exception as e:
            problems = [f"the descriptor's client() failed: {e!r}"]
        if problems:
            raise StepFailure("client", f"round {self.round}: " + "\n".join(problems[:20]))
        self.round += 1

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
        self.stop_peer()
        try:
            problems = self.real.verify(self.workdir)
        except Exception as e:
            problems = [f"the descriptor's verify() failed: {e!r}"]
        if problems:
            raise StepFailure("verify", "\n".join(problems[:20]))

    def stop_peer(self) -> None:
        """The peer ends by itself once the program ended (its client left); if not, it is killed (by its
        pid) and that is a failure."""
        if self.peer is None:
            return
        try:
            rc = self.peer.wait(self.real.timeout)
        except subprocess.TimeoutExpired:
            self.peer.kill()
            self.peer.wait()
            raise StepFailure(
                "stop", f"the peer (pid {self.peer.pid}) did not end {self.real.timeout} s after the program"
            ) from None
        if rc != 0:
            raise StepFailure("stop", f"the peer exited with {rc} (see {self.peer_log.name})")

    def log_names(self) -> list[str]:
        return [self.stdout.name, self.stderr.name, self.peer_log.name]
