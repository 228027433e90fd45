"""An eventfd/epoll loop: N worker threads (default 4) post results to the main thread through eventfds.

Worker k appends its results (1, 2, 3, ...) to its own list, then adds 1 to its eventfd (worker 0's is an
EFD_SEMAPHORE eventfd: one read takes one result). The main thread epoll_wait()s on the N eventfds, a
timerfd ticking every 10 ms and a signalfd for SIGTERM (blocked in every thread). For each eventfd count
read it takes that many results of the worker and appends a numbered record "n k j" to out.txt (n: the
record number, k: the worker, j: the worker's result); for each timerfd read it appends "n tick e"
(e: the expirations read). No asyncio: its self-pipe is a socketpair.

On SIGTERM (read from the signalfd) the workers stop, the main thread drains the eventfds once more and
writes done.txt: "done <records> <ticks>" then per worker "worker k <posted> <taken> <left>" — left is
what its list still held: a result posted but whose count the eventfd lost.
"""

import ctypes
import os
import select
import signal
import struct
import sys
import threading
import time

CLOCK_MONOTONIC = 1
TFD_NONBLOCK = os.O_NONBLOCK
TFD_CLOEXEC = os.O_CLOEXEC
SFD_NONBLOCK = os.O_NONBLOCK
SFD_CLOEXEC = os.O_CLOEXEC

libc = ctypes.CDLL(None, use_errno=True)
stop = threading.Event()


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", Timespec), ("it_value", Timespec)]


def check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


def timerfd(period_ns: int) -> int:
    fd = check(libc.timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), "timerfd_create")
    ts = Itimerspec(Timespec(0, period_ns), Timespec(0, period_ns))
    check(libc.timerfd_settime(fd, 0, ctypes.byref(ts), None), "timerfd_settime")
    return fd


def signalfd(signum: int) -> int:
    mask = (ctypes.c_ulong * 16)()
    mask[0] = 1 << (signum - 1)
    return check(libc.signalfd(-1, ctypes.byref(mask), SFD_NONBLOCK | SFD_CLOEXEC), "signalfd")


class Worker:
    def __init__(self, k: int) -> None:
        self.k = k
        flags = os.EFD_CLOEXEC | os.EFD_NONBLOCK | (os.EFD_SEMAPHORE if k == 0 else 0)
        self.efd = os.eventfd(0, flags)
        self.results: list[int] = []
        self.lock = threading.Lock()
        self.posted = 0
        self.taken = 0
        self.thread = threading.Thread(target=self.run, name=f"worker{k}")

    def run(self) -> None:
        while not stop.is_set():
            self.posted += 1
            with self.lock:
                self.results.append(self.posted)
            os.eventfd_write(self.efd, 1)
            time.sleep(0.003 * (self.k + 1))

    def take(self, out, n: int) -> int:
        """Read the eventfd; write one record per result it counts."""
        try:
            count = os.eventfd_read(self.efd)
        except BlockingIOError:
            return n
        with self.lock:
            got, self.results = self.results[:count], self.results[count:]
        if len(got) != count:
            raise SystemExit(f"worker {self.k}: eventfd counted {count}, only {len(got)} results")
        for j in got:
            n += 1
            out.write(f"{n} {self.k} {j}\n")
        self.taken += count
        out.flush()
        return n


def main() -> int:
    nworkers = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # before the threads: they inherit it
    sfd = signalfd(signal.SIGTERM)
    tfd = timerfd(10_000_000)
    workers = [Worker(k) for k in range(nworkers)]
    ep = select.epoll()
    by_fd = {w.efd: w for w in workers}
    for w in workers:
        ep.register(w.efd, select.EPOLLIN)
    ep.register(tfd, select.EPOLLIN)
    ep.register(sfd, select.EPOLLIN)
    for w in workers:
        w.thread.start()
    n = ticks = 0
    with open("out.txt", "a") as out:
        while not stop.is_set():
            for fd, _ in ep.poll():
                if fd in by_fd:
                    n = by_fd[fd].take(out, n)
                elif fd == tfd:
                    try:
                        (e,) = struct.unpack("Q", os.read(tfd, 8))
                    except BlockingIOError:
                        continue
                    ticks += e
                    n += 1
                    out.write(f"{n} tick {e}\n")
                    out.flush()
                elif fd == sfd:
                    os.read(sfd, 128)
                    stop.set()
        for w in workers:
            w.thread.join()
        for w in workers:
            while True:
                before = n
                n = w.take(out, n)
                if n == before:
                    break
    with open("done.txt", "w") as f:
        f.write(f"done {n} {ticks}\n")
        for w in workers:
            f.write(f"worker {w.k} {w.posted} {w.taken} {len(w.results)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
