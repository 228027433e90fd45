"""Work done inside other namespaces by a forked, single-threaded copy of the engine: setns() of mount, user
and time namespaces refuses a threaded caller, and the engine's own namespaces must never change.

The worker joins the namespaces (fds the engine holds, in the order given), runs one function and sends its
result back as JSON; an exception there becomes an OSError (with its errno), the same engine error
(RestoreError, UnsupportedError, DumpError: their messages are for the user) or a RuntimeError here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from engine import errors
from engine.abi import nr
from engine.abi.consts import CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER
from engine.native import lib

_PASSED = (errors.RestoreError, errors.UnsupportedError, errors.DumpError)  # raised again as they are


FLAGS = {"user": CLONE_NEWUSER, "ipc": CLONE_NEWIPC, "net": CLONE_NEWNET, "mnt": CLONE_NEWNS,
         "pid": CLONE_NEWPID}  # pid: for the worker's children (see in_pidns)


def enter(nsfds: list[tuple[int, int]], as_root: bool = False) -> None:
    """In a forked child: setns(fd, flag) for each (fd, flag), then (as_root) uid and gid 0 there."""
    for fd, flag in nsfds:
        ret = lib.st_syscall(nr.setns, fd, flag, 0, 0, 0, 0)
        if ret < 0:
            raise OSError(-ret, f"setns({flag:#x}): {os.strerror(-ret)}")
    if as_root:
        for call in (nr.setresgid, nr.setgroups, nr.setresuid):
            ret = lib.st_syscall(call, 0, 0, 0, 0, 0, 0)
            if ret < 0 and call != nr.setgroups:  # setgroups: "deny" leaves none to drop
                raise OSError(-ret, f"becoming the namespace's root: {os.strerror(-ret)}")


def open_ns(pid: int, kinds: list[str]) -> list[tuple[int, int]]:
    """(fd, flag) of pid's namespaces of these kinds, in this order (close with close_ns)."""
    return [(os.open(f"/proc/{pid}/ns/{k}", os.O_RDONLY | os.O_CLOEXEC), FLAGS[k]) for k in kinds]


def close_ns(nsfds: list[tuple[int, int]]) -> None:
    for fd, _ in nsfds:
        os.close(fd)


def run_in(pid: int, kinds: list[str], fn: Callable[[], Any], what: str, as_root: bool = False) -> Any:
    """run() in pid's namespaces of these kinds (with "user" first: as that namespace's root, if asked)."""
    nsfds = open_ns(pid, kinds)
    try:
        return run(nsfds, fn, what, as_root)
    finally:
        close_ns(nsfds)


def run(nsfds: list[tuple[int, int]], fn: Callable[[], Any], what: str, as_root: bool = False) -> Any:
    """fn() in a child that did setns(fd, flag) for each (fd, flag); its JSON-able result. `as_root`: then
    it becomes uid and gid 0 of the user namespace it joined (what it makes is owned by that root, the
    ids it passes are that namespace's, and sysctls owned by its root are writable)."""
    rd, wr = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(rd)
        try:
            enter(nsfds, as_root)
            out: dict[str, Any] = {"ok": fn()}
        except OSError as exc:
            out = {"errno": exc.errno or 0, "error": str(exc)}
        except _PASSED as exc:
            out = {"errno": 0, "error": str(exc), "class": type(exc).__name__}
        except BaseException as exc:  # noqa: BLE001 - everything goes back to the engine
            out = {"errno": 0, "error": f"{type(exc).__name__}: {exc}"}
        try:
            data = json.dumps(out).encode()
            while data:
                data = data[os.write(wr, data):]
        finally:
            os._exit(0)
    os.close(wr)
    chunks = []
    try:
        while True:
            b = os.read(rd, 1 << 16)
            if not b:
                break
            chunks.append(b)
    finally:
        os.close(rd)
        os.waitpid(pid, 0)
    if not chunks:
        raise RuntimeError(f"{what}: the namespace worker died")
    res = json.loads(b"".join(chunks))
    if "ok" in res:
        return res["ok"]
    if res["errno"]:
        raise OSError(res["errno"], f"{what}: {res['error']}")
    for cls in _PASSED:
        if res.get("class") == cls.__name__:
            raise cls(res["error"])
    raise RuntimeError(f"{what}: {res['error']}")


def read_text(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


def in_pidns(fn: Callable[[], None]) -> None:
    """In a worker that joined a pid namespace (for its children): fn() in a child, which is in it."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            fn()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status):
        raise OSError(0, f"the worker's child in the pid namespace failed (status {status:#x})")


def write_text(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
