"""The holder of dirty-tracking fds between two engine commands (`python -m engine.holder SPEC`).

A pre-dump (or a dump with --track-mem --leave-running) arms write-protection through a userfaultfd of
each process; the fds must outlive the engine process, but must not stay in the processes' own fd
tables. The engine hands them to this small process (pass_fds) with a listening unix socket; the next
dump connects, is given every fd with SCM_RIGHTS, and the holder exits. It also exits as soon as every
tracked process has exited (their pidfds poll readable), so it never outlives the tree. Only stdlib:
nothing of the engine is imported.
"""

from __future__ import annotations

import array
import json
import os
import select
import socket
import struct
import sys


def serve(spec: dict) -> int:
    sock = socket.socket(fileno=spec["sock"])
    tasks = spec["tasks"]
    pidfds = [t["pidfd"] for t in tasks]
    poll = select.poll()
    poll.register(sock.fileno(), select.POLLIN)
    for fd in pidfds:
        poll.register(fd, select.POLLIN)
    exited: set[int] = set()
    while True:
        for fd, _ in poll.poll():
            if fd != sock.fileno():
                exited.add(fd)
                poll.unregister(fd)
                continue
            conn, _ = sock.accept()
            with conn:
                uid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[2]
                if uid not in (0, os.getuid()):
                    continue  # only the engine's user may take them
                header = json.dumps([{k: t[k] for k in ("pid", "ranges")} for t in tasks]).encode()
                fds = [x for t in tasks for x in (t["uffd"], t["pidfd"])]
                conn.sendmsg([struct.pack("<I", len(header)), header],
                             [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
                conn.recv(1)  # until the taker has them (or closes)
                for fd in fds:  # ours go before the connection does: the taker sees EOF once they are
                    os.close(fd)
            return 0
        if len(exited) == len(pidfds):
            return 0  # every tracked process is gone: nothing left to hand over


def take(name: str, timeout: float = 5.0) -> list[tuple[int, list[list[int]], int, int]]:
    """Connect to a holder: [(pid, ranges, uffd, pidfd)] (fds now the caller's); the holder exits."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    s.settimeout(timeout)
    try:
        s.connect("\0" + name)
        fds = array.array("i")
        msg, anc, _, _ = s.recvmsg(4, socket.CMSG_SPACE(4096 * fds.itemsize))
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
        for fd in fds:
            os.set_inheritable(fd, False)
        (size,) = struct.unpack("<I", msg)
        body = b""
        while len(body) < size:
            chunk = s.recv(size - len(body))
            if not chunk:
                break
            body += chunk
        s.sendall(b"k")
        while s.recv(1):  # EOF: the holder has closed its copies (the taker's are the last ones now)
            pass
        tasks = json.loads(body)
        return [(t["pid"], t["ranges"], fds[2 * i], fds[2 * i + 1]) for i, t in enumerate(tasks)]
    finally:
        s.close()


def main() -> int:
    spec = json.loads(sys.argv[1])
    try:
        return serve(spec)
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
