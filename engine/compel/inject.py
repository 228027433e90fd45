"""Single syscalls injected into a stopped thread.

The thread's registers are pointed at a `syscall` instruction and it is stepped with
PTRACE_SYSCALL to the syscall-entry and then the syscall-exit stop: it never executes past the
instruction, so the instruction may sit anywhere (the vDSO, the restore helper, a scratch page).
orig_ax = -1 keeps the kernel's syscall-restart logic away from injected register sets.
"""

from __future__ import annotations

import os
import signal

from engine.abi import nr
from engine.abi.consts import (
    ALL_SIGNALS,
    MAP_ANONYMOUS,
    MAP_FIXED_NOREPLACE,
    MAP_PRIVATE,
    PROT_EXEC,
    PROT_READ,
    PROT_WRITE,
    STOP_SIGNALS,
)
from engine.compel.memory import TaskMemory
from engine.compel.ptrace import Tracee
from engine.native import ffi

SCRATCH_SIZE = 64 * 1024
SCRATCH_DATA = SCRATCH_SIZE - 64  # the last bytes may hold a `syscall` instruction


class InjectError(OSError):
    """An injected syscall failed, or the thread stopped for something else: names the thread and the call."""


class Injector:
    """Runs syscalls in `tracee`. Open a session with attach(); release() puts registers and mask back."""

    def __init__(self, tracee: Tracee, syscall_ip: int, mem: TaskMemory, scratch: int = 0) -> None:
        self.tracee = tracee
        self.syscall_ip = syscall_ip
        self.mem = mem
        self.saved_regs = None
        self.saved_mask = 0
        self.scratch = scratch
        self.count = 0
        self.held_stop = 0

    @classmethod
    def attach(cls, tracee: Tracee, syscall_ip: int, mem: TaskMemory, scratch: int = 0) -> Injector:
        """A session on a stopped thread: its registers and mask are saved, every signal blocked (a signal
        arriving mid-injection would turn a syscall stop into a signal stop)."""
        inj = cls(tracee, syscall_ip, mem, scratch)
        inj.saved_regs = tracee.get_regs()
        inj.saved_mask = tracee.get_sigmask()
        tracee.set_sigmask(ALL_SIGNALS)
        return inj

    def __enter__(self) -> Injector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        """The thread's own registers and mask again (nothing, after hand_over())."""
        if self.saved_regs is not None:
            self.tracee.set_regs(self.saved_regs)
            self.tracee.set_sigmask(self.saved_mask)

    def hand_over(self) -> None:
        """The caller sets the thread's final registers itself: release() leaves them alone."""
        self.saved_regs = None

    def raw(self, sysno: int, *args: int) -> int:
        """Run one syscall; returns the kernel's result (a negative errno on failure)."""
        self.start(sysno, *args)
        return self.finish()

    def start(self, sysno: int, *args: int) -> None:
        """Set a syscall going and return while the task runs it (the engine may work meanwhile)."""
        regs = ffi.new("struct st_regs *")
        ffi.memmove(regs, self.saved_regs, ffi.sizeof("struct st_regs"))
        a = [x & 0xFFFFFFFFFFFFFFFF for x in args] + [0] * (6 - len(args))
        regs.ip = self.syscall_ip
        regs.ax = sysno
        regs.orig_ax = 0xFFFFFFFFFFFFFFFF
        regs.di, regs.si, regs.dx, regs.r10, regs.r8, regs.r9 = a
        self.tracee.set_regs(regs)
        self.tracee.syscall_step()
        self._wait_syscall_stop("entry")
        self.tracee.syscall_step()

    def finish(self) -> int:
        """Wait for the syscall set going by start() to return; its result."""
        self._wait_syscall_stop("exit")
        self.count += 1
        return int(ffi.cast("long", self.tracee.get_regs().ax))

    def _wait_syscall_stop(self, which: str) -> None:
        stop = self.tracee.wait()
        while not stop.is_syscall:
            if stop.sig == signal.SIGTRAP or stop.is_group_or_interrupt:
                # A leftover interrupt/trap stop: step on without a signal.
                self.tracee.syscall_step()
                stop = self.tracee.wait()
                continue
            if stop.sig in STOP_SIGNALS:
                # A job-control stop cannot be blocked: hold it back; the caller re-stops the task
                # (stopped tasks are let go with their stop signal).
                self.held_stop = stop.sig
                self.tracee.syscall_step()
                stop = self.tracee.wait()
                continue
            raise InjectError(f"thread {self.tracee.tid}: unexpected {stop} waiting for syscall {which}")

    def last(self, sysno: int, *args: int) -> int:
        """Run a final syscall and leave the thread at its syscall-exit stop.

        The caller installs the thread's final registers there and detaches: nothing of ours
        runs in the task after this, not even an instruction fetch from the scratch area.
        """
        ret = self.raw(sysno, *args)
        self.hand_over()
        return ret

    def call(self, sysno: int, *args: int, what: str = "") -> int:
        """Run one syscall, raising InjectError (with the thread and the call) on failure."""
        ret = self.raw(sysno, *args)
        if -4096 < ret < 0:
            name = what or f"syscall {sysno}"
            raise InjectError(-ret, f"thread {self.tracee.tid}: {name}: {os.strerror(-ret)}")
        return ret

    # -- scratch memory in the target for syscall arguments -----------------------------------
    def map_scratch(self, addr: int = 0, exec_: bool = False) -> int:
        prot = PROT_READ | PROT_WRITE | (PROT_EXEC if exec_ else 0)
        flags = MAP_PRIVATE | MAP_ANONYMOUS | (MAP_FIXED_NOREPLACE if addr else 0)
        self.scratch = self.call(nr.mmap, addr, SCRATCH_SIZE, prot, flags, -1, 0, what="mmap(scratch)")
        return self.scratch

    def unmap_scratch(self) -> None:
        if self.scratch:
            self.call(nr.munmap, self.scratch, SCRATCH_SIZE, what="munmap(scratch)")
            self.scratch = 0

    def forget_scratch(self) -> None:
        """The scratch area belongs to another session of the same address space."""
        self.scratch = 0

    def put(self, data: bytes, offset: int = 0) -> int:
        """Copy data into the scratch area; returns its address in the target."""
        if offset + len(data) > SCRATCH_DATA:
            raise InjectError(f"{len(data)} bytes do not fit the scratch area")
        self.mem.write(self.scratch + offset, data)
        return self.scratch + offset

    def get(self, offset: int, size: int) -> bytes:
        return self.mem.read(self.scratch + offset, size)

    def put_str(self, text: str, offset: int = 0) -> int:
        """A NUL-terminated string in the scratch area; its address."""
        return self.put(os.fsencode(text) + b"\0", offset)
