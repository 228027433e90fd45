"""ptrace requests and a traced thread (`Tracee`): stops, registers, xstate, signal mask.

Every ptrace call must come from the OS thread that attached: the engine is single-threaded.
"""

from __future__ import annotations

import errno
import os
import signal
import time

from engine.abi.consts import (
    NT_X86_XSTATE,
    PTRACE_CONT,
    PTRACE_DETACH,
    PTRACE_EVENT_STOP,
    PTRACE_GET_RSEQ_CONFIGURATION,
    PTRACE_GETEVENTMSG,
    PTRACE_GETREGS,
    PTRACE_GETREGSET,
    PTRACE_GETSIGMASK,
    PTRACE_INTERRUPT,
    PTRACE_PEEKSIGINFO,
    PTRACE_PEEKSIGINFO_SHARED,
    PTRACE_SECCOMP_GET_FILTER,
    PTRACE_SEIZE,
    PTRACE_SETOPTIONS,
    PTRACE_SETREGS,
    PTRACE_SETREGSET,
    PTRACE_SETSIGMASK,
    PTRACE_SYSCALL,
    WALL,
)
from engine.native import check, ffi, lib
from engine.record import record

XSTATE_MAX = 1 << 16  # larger than any XSAVE area (AMX makes it 11 KiB)
SIGINFO_SIZE = 128


REG_NAMES = ("r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx", "si",
             "di", "orig_ax", "ip", "cs", "flags", "sp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs")


class TraceeGone(OSError):
    """The traced thread died under us."""


@record
class Stop:
    """What waitpid reported for a traced thread."""

    status: int

    @property
    def exited(self) -> bool:
        return os.WIFEXITED(self.status) or os.WIFSIGNALED(self.status)

    @property
    def sig(self) -> int:
        return os.WSTOPSIG(self.status) if os.WIFSTOPPED(self.status) else 0

    @property
    def event(self) -> int:
        return self.status >> 16

    @property
    def is_syscall(self) -> bool:
        return self.sig == (signal.SIGTRAP | 0x80)

    @property
    def is_group_or_interrupt(self) -> bool:
        return self.event == PTRACE_EVENT_STOP

    def __str__(self) -> str:
        if os.WIFEXITED(self.status):
            return f"exited with {os.WEXITSTATUS(self.status)}"
        if os.WIFSIGNALED(self.status):
            return f"killed by signal {os.WTERMSIG(self.status)}"
        return f"stopped by signal {self.sig} event {self.event}"


def ptrace(req: int, tid: int, addr: int = 0, data: int = 0, what: str = "ptrace") -> int:
    return check(lib.st_ptrace(req, tid, addr, data), f"{what} (tid {tid})")


class Tracee:
    """One traced thread. Registers are cached as a cffi struct while the thread is stopped."""

    def __init__(self, tid: int) -> None:
        self.tid = tid

    # -- stops --------------------------------------------------------------------------------
    def wait(self) -> Stop:
        stop = self.poll(None)
        assert stop is not None
        return stop

    def poll(self, timeout: float | None) -> Stop | None:
        """The next stop; None if `timeout` seconds pass first (polled: waitpid has no timeout)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.0005
        while True:
            try:
                pid, status = os.waitpid(self.tid, WALL | (os.WNOHANG if deadline else 0))
            except ChildProcessError as exc:
                raise TraceeGone(exc.errno, f"thread {self.tid} is gone") from exc
            if pid == 0:
                if time.monotonic() > deadline:  # type: ignore[operator]
                    return None
                time.sleep(delay)
                delay = min(delay * 2, 0.02)
                continue
            stop = Stop(status)
            if stop.exited:
                raise TraceeGone(0, f"thread {self.tid} {stop}")
            return stop

    def seize(self, options: int) -> None:
        ptrace(PTRACE_SEIZE, self.tid, 0, options, "PTRACE_SEIZE")

    def interrupt(self) -> None:
        ptrace(PTRACE_INTERRUPT, self.tid, 0, 0, "PTRACE_INTERRUPT")

    def set_options(self, options: int) -> None:
        ptrace(PTRACE_SETOPTIONS, self.tid, 0, options, "PTRACE_SETOPTIONS")

    def cont(self, sig: int = 0) -> None:
        ptrace(PTRACE_CONT, self.tid, 0, sig, "PTRACE_CONT")

    def syscall_step(self, sig: int = 0) -> None:
        ptrace(PTRACE_SYSCALL, self.tid, 0, sig, "PTRACE_SYSCALL")

    def detach(self, sig: int = 0) -> None:
        ptrace(PTRACE_DETACH, self.tid, 0, sig, "PTRACE_DETACH")

    def event_msg(self) -> int:
        buf = ffi.new("unsigned long *")
        ptrace(PTRACE_GETEVENTMSG, self.tid, 0, int(ffi.cast("uintptr_t", buf)), "PTRACE_GETEVENTMSG")
        return int(buf[0])

    # -- registers ----------------------------------------------------------------------------
    def get_regs(self):  # -> cdata 'struct st_regs *'
        regs = ffi.new("struct st_regs *")
        ptrace(PTRACE_GETREGS, self.tid, 0, int(ffi.cast("uintptr_t", regs)), "PTRACE_GETREGS")
        return regs

    def set_regs(self, regs) -> None:
        ptrace(PTRACE_SETREGS, self.tid, 0, int(ffi.cast("uintptr_t", regs)), "PTRACE_SETREGS")

    def _regset(self, req: int, note: int, buf, size: int) -> int:
        iov = ffi.new("struct iovec *")
        iov.iov_base = buf
        iov.iov_len = size
        ptrace(req, self.tid, note, int(ffi.cast("uintptr_t", iov)), "PTRACE_GET/SETREGSET")
        return int(iov.iov_len)

    def get_xstate(self) -> bytes:
        buf = ffi.new("char[]", XSTATE_MAX)
        n = self._regset(PTRACE_GETREGSET, NT_X86_XSTATE, buf, XSTATE_MAX)
        return bytes(ffi.buffer(buf, n))

    def set_xstate(self, data: bytes) -> None:
        buf = ffi.new("char[]", data)
        self._regset(PTRACE_SETREGSET, NT_X86_XSTATE, buf, len(data))

    def get_sigmask(self) -> int:
        mask = ffi.new("uint64_t *")
        ptrace(PTRACE_GETSIGMASK, self.tid, 8, int(ffi.cast("uintptr_t", mask)), "PTRACE_GETSIGMASK")
        return int(mask[0])

    def set_sigmask(self, value: int) -> None:
        mask = ffi.new("uint64_t *", value)
        ptrace(PTRACE_SETSIGMASK, self.tid, 8, int(ffi.cast("uintptr_t", mask)), "PTRACE_SETSIGMASK")

    def rseq_config(self):  # -> cdata 'struct st_rseq_conf *', or None before 5.13
        conf = ffi.new("struct st_rseq_conf *")
        ret = lib.st_ptrace(PTRACE_GET_RSEQ_CONFIGURATION, self.tid, ffi.sizeof("struct st_rseq_conf"),
                            int(ffi.cast("uintptr_t", conf)))
        if ret == -errno.EIO:  # an unknown request: the kernel cannot show rseq registrations
            return None
        check(ret, f"PTRACE_GET_RSEQ_CONFIGURATION (tid {self.tid})")
        return conf

    def peek_siginfo(self, shared: bool) -> list[bytes]:
        """Queued signals (raw 128-byte siginfo), without dequeuing them."""
        out: list[bytes] = []
        args = ffi.new("uint64_t[2]")
        buf = ffi.new("char[]", SIGINFO_SIZE * 32)
        while True:
            args[0] = len(out)
            args[1] = PTRACE_PEEKSIGINFO_SHARED if shared else 0
            args[1] |= 32 << 32  # nr in the high half: struct {u64 off; u32 flags; s32 nr;}
            n = ptrace(PTRACE_PEEKSIGINFO, self.tid, int(ffi.cast("uintptr_t", args)),
                       int(ffi.cast("uintptr_t", buf)), "PTRACE_PEEKSIGINFO")
            if n == 0:
                return out
            raw = bytes(ffi.buffer(buf, n * SIGINFO_SIZE))
            out += [raw[i * SIGINFO_SIZE:(i + 1) * SIGINFO_SIZE] for i in range(n)]

    def seccomp_filters(self) -> list[bytes]:
        """Installed seccomp filters, oldest first (PTRACE_SECCOMP_GET_FILTER counts from newest)."""
        filters: list[bytes] = []
        i = 0
        while True:
            n = lib.st_ptrace(PTRACE_SECCOMP_GET_FILTER, self.tid, i, 0)
            if n == -2:  # ENOENT: no more filters
                break
            if n < 0:
                if n == -22 and i == 0:  # EINVAL: not in filter mode
                    break
                check(n, "PTRACE_SECCOMP_GET_FILTER")
            buf = ffi.new("char[]", n * 8)
            check(lib.st_ptrace(PTRACE_SECCOMP_GET_FILTER, self.tid, i, int(ffi.cast("uintptr_t", buf))),
                  "PTRACE_SECCOMP_GET_FILTER")
            filters.append(bytes(ffi.buffer(buf, n * 8)))
            i += 1
        return filters[::-1]


def regs_to_dict(regs) -> dict[str, int]:
    return {name: int(getattr(regs, name)) for name in REG_NAMES}


def regs_from_dict(values: dict[str, int]):
    regs = ffi.new("struct st_regs *")
    for name in REG_NAMES:
        setattr(regs, name, values[name] & 0xFFFFFFFFFFFFFFFF)
    return regs
