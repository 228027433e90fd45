"""Terminals other than ptys (pty.py) that the caller owns (--shell-job): reopened by path."""

from __future__ import annotations

import os
import stat as st
from typing import TYPE_CHECKING

from engine.errors import UnsupportedError
from engine.images.pb import fdinfo_pb2
from engine.objects.files import paths
from engine.objects.files.kind import Fd, FdKind

if TYPE_CHECKING:
    from engine.context import DumpContext
    from engine.task import Task

TTY_MAJORS = (4, 5, 136)


def matches(fd: Fd) -> bool:
    return (fd.target.startswith("/") and st.S_ISCHR(fd.stat.st_mode)
            and os.major(fd.stat.st_rdev) in TTY_MAJORS)


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    if not ctx.opts.shell_job:
        raise UnsupportedError(f"{fd.where}: a terminal; use --shell-job")
    paths.check_path(t.pid, fd.target, fd.stat, fd.where)


KIND = FdKind("terminal", fdinfo_pb2.REG, "reg", matches, paths.dump, paths.open_, check=check,
              ext_id=paths.ext_id)
