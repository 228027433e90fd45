"""Device nodes: reopened by path when the device keeps no state of its own in the open file (null,
zero, full, random, urandom, block devices); any other device is refused, since what it remembers
(a read position in /dev/kmsg, a tun interface, …) would be lost."""

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

STATELESS_CHR = {(1, 3), (1, 5), (1, 7), (1, 8), (1, 9)}  # null zero full random urandom


def matches(fd: Fd) -> bool:
    return fd.target.startswith("/") and (st.S_ISCHR(fd.stat.st_mode) or st.S_ISBLK(fd.stat.st_mode))


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    dev = (os.major(fd.stat.st_rdev), os.minor(fd.stat.st_rdev))
    if st.S_ISCHR(fd.stat.st_mode) and dev not in STATELESS_CHR:
        raise UnsupportedError(f"{fd.where}: character device {dev[0]}:{dev[1]} keeps state in the open "
                               "file that cannot be saved (not supported)")
    paths.check_path(t.pid, fd.target, fd.stat, fd.where)


KIND = FdKind("device", fdinfo_pb2.REG, "reg", matches, paths.dump, paths.open_, check=check,
              ext_id=paths.ext_id)
