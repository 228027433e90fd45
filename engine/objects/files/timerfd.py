"""timerfd: its clock, settime flags (TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET), interval, time left and
the expirations not yet read (ticks).

At dump the engine takes a copy of the fd and calls timerfd_gettime() on it first: an interval timer that
expired and was not read yet is only forwarded (its missed expirations counted into ticks, its next
expiry set) when it is read or queried, and fdinfo shows it disarmed until then. fdinfo, read right
after, gives the state. A relative timer keeps the time it had left (as in CRIU: the time of the C/R does
not count); an absolute one (TFD_TIMER_ABSTIME) expires at the same instant of its clock as before: the
instant is kept in a Stasis extension (CRIU's image has the time left only); the engine reads the clock
in its own time namespace, which is the tree's (a tree with a time namespace of its own is refused today;
once they are restored, an absolute CLOCK_MONOTONIC/BOOTTIME timer must follow the namespace's offsets).
Ticks have no syscall: the TFD_IOC_SET_TICKS ioctl (kernels with CONFIG_CHECKPOINT_RESTORE) sets them
after timerfd_settime(), which zeroes them; without it a timerfd with unread ticks is refused. The
*_ALARM clocks need CAP_WAKE_ALARM to create a timer: refused at dump when the engine lacks it. A
cancel-on-set timer with unread ticks is refused: a change of the clock also counts as a tick there (and makes
the read fail with ECANCELED), and neither fdinfo nor any call tells the two apart or can set a timer
cancelled.
"""

from __future__ import annotations

import fcntl
import functools
import os
import struct
import time
from typing import TYPE_CHECKING

from engine import proc
from engine.abi import nr
from engine.abi.consts import (
    CAP_WAKE_ALARM,
    CLOCK_BOOTTIME,
    CLOCK_BOOTTIME_ALARM,
    CLOCK_MONOTONIC,
    CLOCK_REALTIME,
    CLOCK_REALTIME_ALARM,
    O_CLOEXEC,
    O_NONBLOCK,
    TFD_IOC_SET_TICKS,
    TFD_TIMER_ABSTIME,
    TFD_TIMER_CANCEL_ON_SET,
)
from engine.compel.pidfd import getfd
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import fdinfo_pb2
from engine.native import ffi, lib
from engine.objects.files.kind import Fd, FdKind

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.task import Task

ITIMERSPEC = struct.Struct("<qqqq")  # it_interval sec/nsec, it_value sec/nsec
NSEC = 1_000_000_000
# the clock a timer runs on -> the clock the engine reads the time of (the _ALARM ones have no reading
# without an RTC device)
CLOCKS = {CLOCK_REALTIME: CLOCK_REALTIME, CLOCK_MONOTONIC: CLOCK_MONOTONIC, CLOCK_BOOTTIME: CLOCK_BOOTTIME,
          CLOCK_REALTIME_ALARM: CLOCK_REALTIME, CLOCK_BOOTTIME_ALARM: CLOCK_BOOTTIME}
ALARMS = (CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM)


@functools.cache
def set_ticks_supported() -> bool:
    """TFD_IOC_SET_TICKS works on a timerfd of the engine (ENOTTY without CONFIG_CHECKPOINT_RESTORE)."""
    fd = lib.st_syscall(nr.timerfd_create, CLOCK_MONOTONIC, O_CLOEXEC, 0, 0, 0, 0)
    if fd < 0:
        return False
    try:
        fcntl.ioctl(fd, TFD_IOC_SET_TICKS, struct.pack("<Q", 1))
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def matches(fd: Fd) -> bool:
    return fd.target == "anon_inode:[timerfd]"


def _pair(value: str) -> tuple[int, int]:
    """'(99, 999984763)' -> (99, 999984763)."""
    sec, _, nsec = value.strip().strip("()").partition(",")
    return int(sec), int(nsec)


def _clock(fd: Fd, extra: dict[str, str]) -> int:
    try:
        clockid = int(extra["clockid"])
    except (KeyError, ValueError) as exc:
        raise UnsupportedError(f"{fd.where}: fdinfo shows no clockid") from exc
    if clockid not in CLOCKS:
        raise UnsupportedError(f"{fd.where}: timerfd on clock {clockid}, which this engine does not know")
    return clockid


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    clockid = _clock(fd, fd.info.extra)
    if clockid in ALARMS and not proc.own_cap(CAP_WAKE_ALARM):
        raise UnsupportedError(f"{fd.where}: a timerfd on an alarm clock ({clockid}); creating it again at "
                               "restore needs CAP_WAKE_ALARM, which the engine lacks")


def _state(mine: int) -> dict[str, str]:
    """fdinfo of the engine's copy after timerfd_gettime() forwarded it."""
    spec = ffi.new("char[]", ITIMERSPEC.size)
    ret = lib.st_syscall(nr.timerfd_gettime, mine, int(ffi.cast("uintptr_t", spec)), 0, 0, 0, 0)
    if ret < 0:
        raise OSError(-ret, f"timerfd_gettime: {os.strerror(-ret)}")
    with open(f"/proc/self/fdinfo/{mine}") as f:
        info = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in f)}
    return info


def dump(ctx: DumpContext, t: Task, fd: Fd, e: fdinfo_pb2.file_entry) -> None:
    tfd = e.tfd
    try:
        mine = getfd(fd.pid, fd.num)
    except OSError as exc:
        raise UnsupportedError(f"{fd.where}: cannot take a copy of the timerfd: {exc.strerror}") from exc
    try:
        for _ in range(8):
            info = _state(mine)
            clockid = _clock(fd, info)
            now = time.clock_gettime_ns(CLOCKS[clockid])
            value, interval = _pair(info["it_value"]), _pair(info["it_interval"])
            ticks = int(info["ticks"])
            if not (value == (0, 0) and interval != (0, 0) and ticks):
                break  # not an expired interval timer that fired again since timerfd_gettime()
        else:
            value = interval  # it keeps firing faster than we look: its next expiry is within an interval
        flags = int(info["settime flags"], 8)
    except (KeyError, ValueError) as exc:
        raise UnsupportedError(f"{fd.where}: fdinfo of the timerfd cannot be read: {exc}") from exc
    except OSError as exc:
        raise UnsupportedError(f"{fd.where}: cannot read the timerfd's state: {exc.strerror}") from exc
    finally:
        os.close(mine)
    cancel = TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET
    if ticks and flags & cancel == cancel and CLOCKS[clockid] == CLOCK_REALTIME:
        raise UnsupportedError(f"{fd.where}: a cancel-on-set timerfd with {ticks} unread expirations: they "
                               "may be a cancellation by a change of the clock (its read fails with "
                               "ECANCELED), which fdinfo does not tell apart and no interface can restore")
    if ticks and not set_ticks_supported():
        raise UnsupportedError(f"{fd.where}: the timerfd has {ticks} expirations not yet read; restoring "
                               "them needs the TFD_IOC_SET_TICKS ioctl (CONFIG_CHECKPOINT_RESTORE), which "
                               "this kernel lacks")
    tfd.clockid, tfd.ticks, tfd.settime_flags = clockid, ticks, flags
    tfd.vsec, tfd.vnsec = value
    tfd.isec, tfd.insec = interval
    if flags & TFD_TIMER_ABSTIME and value != (0, 0):
        at = now + value[0] * NSEC + value[1]
        tfd.stasis.abs_sec, tfd.stasis.abs_nsec = divmod(at, NSEC)


def open_(ctx: RestoreContext, e: fdinfo_pb2.file_entry) -> int:
    tfd = e.tfd
    if tfd.clockid not in CLOCKS:
        raise RestoreError(f"files.img: timerfd {e.id} on clock {tfd.clockid}, which this engine does not "
                           "know")
    fd = lib.st_syscall(nr.timerfd_create, tfd.clockid, O_CLOEXEC | (tfd.flags & O_NONBLOCK), 0, 0, 0, 0)
    if fd < 0:
        raise RestoreError(f"timerfd {e.id}: timerfd_create(clock {tfd.clockid}): {os.strerror(-fd)}")
    try:
        _arm(e, fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _arm(e: fdinfo_pb2.file_entry, fd: int) -> None:
    tfd = e.tfd
    flags = tfd.settime_flags & (TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)
    vsec, vnsec = tfd.vsec, tfd.vnsec
    if flags & TFD_TIMER_ABSTIME and (vsec or vnsec):
        if tfd.HasField("stasis") and tfd.stasis.HasField("abs_sec"):
            vsec, vnsec = tfd.stasis.abs_sec, tfd.stasis.abs_nsec
        else:  # a CRIU image: the time left from now
            vsec, vnsec = divmod(time.clock_gettime_ns(CLOCKS[tfd.clockid]) + vsec * NSEC + vnsec, NSEC)
    spec = ffi.new("char[]", ITIMERSPEC.pack(tfd.isec, tfd.insec, vsec, vnsec))
    ret = lib.st_syscall(nr.timerfd_settime, fd, flags, int(ffi.cast("uintptr_t", spec)), 0, 0, 0)
    if ret < 0:
        raise RestoreError(f"timerfd {e.id}: timerfd_settime(flags {flags:#x}, value {vsec}.{vnsec:09d}, "
                           f"interval {tfd.isec}.{tfd.insec:09d}): {os.strerror(-ret)}")
    if not tfd.ticks:
        return
    with open(f"/proc/self/fdinfo/{fd}") as f:  # expirations since timerfd_settime() add to the old ones
        fired = next((int(line.split(":", 1)[1]) for line in f if line.startswith("ticks:")), 0)
    try:
        fcntl.ioctl(fd, TFD_IOC_SET_TICKS, struct.pack("<Q", tfd.ticks + fired))
    except OSError as exc:
        raise RestoreError(f"timerfd {e.id}: TFD_IOC_SET_TICKS({tfd.ticks}): {exc.strerror}") from exc


KIND = FdKind("timerfd", fdinfo_pb2.TIMERFD, "tfd", matches, dump, open_, check=check)
