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
from engine.native import lib

_PASSED = (errors.RestoreError, errors.UnsupportedError, errors.DumpError)  # raised again as they are


def run(nsfds: list[tuple[int, int]], fn: Callable[[], Any], what: str, as_root: bool = False) -> Any:
    """fn() in a child that did setns(fd, flag) for each (fd, flag); its JSON-able result. `as_root`: then
    it becomes uid and gid 0 of the user namespace it joined (what it makes is owned by that root, the
    ids it passes are that namespace's, and sysctls owned by its root are writable)."""
    rd, wr = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(rd)
        try:
            for fd, flag in nsfds:
                ret = lib.st_syscall(nr.setns, fd, flag, 0, 0, 0, 0)
                if ret < 0:
                    raise OSError(-ret, f"setns({flag:#x}): {os.strerror(-ret)}")
            if as_root:
                for call, args in ((nr.setresgid, (0, 0, 0)), (nr.setgroups, (0, 0, 0)),
                                   (nr.setresuid, (0, 0, 0))):
                    ret = lib.st_syscall(call, *args, 0, 0, 0)
                    if ret < 0 and call != nr.setgroups:  # setgroups: "deny" leaves none to drop
                        raise OSError(-ret, f"becoming the namespace's root: {os.strerror(-ret)}")
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


def write_text(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
