"""Where the path names of unix sockets resolve: the mount namespace and root of the process that bound or
connected them, which may not be the engine's.

bind() records the name exactly as it is given, so a name cannot be bound through /proc/PID/root/... (the
long name would be what getsockname() returns): it is bound by a forked copy of the engine that joined the
tree's mount namespace (engine/objects/nsworker.py), where its root is the namespace's root and the name
resolves as it did for the tree. The same worker reads and checks the names at dump. In the engine's own
view (the same mount namespace and root) everything is done in the engine itself.

Supported: a process whose root is the engine's (same mount namespace), or the root of its own mount
namespace. A process chroot()ed elsewhere is refused by the callers, naming the socket.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from engine.abi.consts import CLONE_NEWNS, O_CLOEXEC, O_RDONLY
from engine.errors import StasisError
from engine.objects import nsworker
from engine.record import record

HERE = -1  # View.mntfd of the engine's own view


@record
class View:
    mntfd: int  # an fd of the mount namespace to join (HERE: the engine's own view)
    root: tuple[int, int]  # (st_dev, st_ino) the root must be there


def _key(path: str) -> tuple[int, int]:
    s = os.stat(path)
    return s.st_dev, s.st_ino


def open_view(pid: int) -> View | str:
    """pid's view, or why its names cannot be resolved (a root other than its namespace's or the engine's).
    The caller owns (and closes) the namespace fd of a View that is not HERE."""
    try:
        root = _key(f"/proc/{pid}/root")
        if os.stat(f"/proc/{pid}/ns/mnt").st_ino == os.stat("/proc/self/ns/mnt").st_ino:
            if root != _key("/"):
                return "a root other than the engine's in the engine's mount namespace"
            return View(HERE, root)
        if os.readlink(f"/proc/{pid}/root") != "/":
            return "a root other than the root of its mount namespace (chroot)"
        return View(os.open(f"/proc/{pid}/ns/mnt", O_RDONLY | O_CLOEXEC), root)
    except OSError as exc:
        return f"its mount namespace and root cannot be read: {exc.strerror}"


def close(view: View | None) -> None:
    if view is not None and view.mntfd != HERE:
        os.close(view.mntfd)
        view.mntfd = HERE


def run(view: View, fn: Callable[[], Any], what: str, err: type[StasisError]) -> Any:
    """fn() where the paths are view's (its result must be JSON-able when the view is not the engine's).
    A worker that cannot get there raises err; OSError and StasisError raised by fn come back as they are."""
    if view.mntfd == HERE:
        return fn()

    def there() -> Any:
        if _key("/") != view.root:
            raise RuntimeError("the mount namespace's root is not the process's root")
        return fn()

    try:
        return nsworker.run([(view.mntfd, CLONE_NEWNS)], there, what)
    except RuntimeError as exc:
        raise err(str(exc)) from exc
