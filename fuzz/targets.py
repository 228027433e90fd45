"""The real programs whose dumps are mutated: each started, dumped (killed by the dump) and reaped, so that
its images restore at its old PIDs while the fuzzer runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

# a sleeping counter
COUNTER = r"""
import time
n = 0
while True:
    n += 1
    time.sleep(0.05)
"""

# a child process, a thread, a pipe with data in flight, an open file with an offset, a signal handler
TREE = r"""
import os, signal, threading, time
r, w = os.pipe()
os.write(w, b"in flight")
f = open("data.txt", "w+")
f.write("x" * 5000)
f.flush()
f.seek(123)
signal.signal(signal.SIGUSR1, lambda *a: None)
pid = os.fork()
if pid == 0:
    while True:
        time.sleep(0.05)
threading.Thread(target=lambda: [time.sleep(0.05) for _ in iter(int, 1)], daemon=True).start()
while True:
    time.sleep(0.05)
"""

# not root: uid/gid 1000, no capabilities, no_new_privs, a seccomp filter (allows all), a file of its own
UNPRIV = r"""
import ctypes, os, struct, time
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
ret_allow = struct.pack("<HBBI", 0x06, 0, 0, 0x7FFF0000)
prog = ctypes.create_string_buffer(ret_allow)
fprog = struct.pack("<HxxxxxxQ", 1, ctypes.addressof(prog))
buf = ctypes.create_string_buffer(fprog)
u = ctypes.c_ulong  # a pointer is not an int: ctypes would pass it cut to 32 bits
assert libc.prctl(PR_SET_NO_NEW_PRIVS, u(1), u(0), u(0), u(0)) == 0
assert libc.prctl(PR_SET_SECCOMP, u(SECCOMP_MODE_FILTER), u(ctypes.addressof(buf)), u(0), u(0)) == 0
f = open("own.txt", "w+")
f.write("mine")
f.flush()
while True:
    time.sleep(0.05)
"""

# namespaces and fds of many kinds: its own UTS, IPC and network namespaces (lo up, a hostname); a unix
# stream pair with data queued, a unix datagram pair, a TCP listener and a UDP socket in its netns, an
# eventfd, an epoll watching two of them, a memfd with data, an armed timerfd, an inotify watch, a pipe
KINDS = r"""
import ctypes, os, select, socket, struct, time
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNET = 0x04000000, 0x08000000, 0x40000000
assert libc.unshare(CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET) == 0
socket.sethostname("fuzz-kinds")
assert os.system("ip link set lo up") == 0
a, b = socket.socketpair()
a.send(b"queued")
d1, d2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
d1.send(b"dgram")
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(4)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", 0))
efd = os.eventfd(3)
ep = select.epoll()
ep.register(b.fileno(), select.EPOLLIN)
ep.register(efd, select.EPOLLIN)
mfd = os.memfd_create("fuzz")
os.write(mfd, b"m" * 10000)
tfd = libc.timerfd_create(1, 0)
spec = ctypes.create_string_buffer(struct.pack("<qqqq", 10, 0, 10, 0))
assert tfd >= 0 and libc.timerfd_settime(tfd, 0, spec, None) == 0
ino = libc.inotify_init1(0)
assert ino >= 0 and libc.inotify_add_watch(ino, b".", 0x100) >= 0
r, w = os.pipe()
os.write(w, b"p")
while True:
    time.sleep(0.05)
"""

# the system's interpreter: the unprivileged target cannot run one under /root
TARGET_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

TARGETS = {"counter": (COUNTER, None), "tree": (TREE, None), "unpriv": (UNPRIV, 1000),
           "kinds": (KINDS, None)}


def _engine(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def make_dump(name: str, where: Path) -> Path:
    """Start the target, let it settle, dump it into where/<name> (the dump kills it), reap it."""
    code, uid = TARGETS[name]
    work = where / f"{name}-work"
    work.mkdir(parents=True)
    os.chmod(work, 0o777)
    kw: dict = {"user": uid, "group": uid, "extra_groups": []} if uid is not None else {}
    proc = subprocess.Popen([TARGET_PYTHON, "-c", code], cwd=work, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            **kw)
    time.sleep(0.5)
    if proc.poll() is not None:
        raise RuntimeError(f"the {name} target exited before its dump (status {proc.returncode})")
    images = where / name
    images.mkdir()
    res = _engine("dump", "-t", str(proc.pid), "-D", images)
    if res.returncode != 0:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"dump of the {name} target failed: {res.stderr.strip()}")
    proc.wait(timeout=10)
    reap_all()
    return images


def reap_all() -> None:
    """Zombies re-parented to us (a subreaper): reaped without waiting for anything alive."""
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return
