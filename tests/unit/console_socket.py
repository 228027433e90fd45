"""runc's --console-socket receiver for the tests: a unix stream socket on which runc (at `run`) or the
engine through runc (at `restore`, criu's orphan-pts-master notify) sends the pty master of a terminal
container over SCM_RIGHTS. The master's output (the container's terminal) is copied into a buffer by a
thread; write() types into it."""

from __future__ import annotations

import array
import os
import socket
import threading
import time
from pathlib import Path


class Console:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(1)
        self.master = -1
        self.name = ""  # the payload that came with the fd (runc's: /dev/ptmx, criu's: orphan-pts-master)
        self.out = bytearray()
        self.lock = threading.Lock()
        self.got = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            fds = array.array("i")
            msg, anc, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(fds.itemsize))
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
        if not fds:
            return
        self.master, self.name = fds[0], msg.decode(errors="replace")
        self.got.set()
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: every slave closed
                return
            if not chunk:
                return
            with self.lock:
                self.out += chunk

    def wait_master(self, timeout: float = 30) -> bool:
        return self.got.wait(timeout)

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def text(self) -> str:
        with self.lock:
            return self.out.decode(errors="replace")

    def wait_for(self, what: str, timeout: float = 20) -> bool:
        deadline = time.monotonic() + timeout
        while what not in self.text():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def close(self) -> None:
        self.sock.close()
        if self.master >= 0:
            os.close(self.master)  # the reader thread gets EBADF or EIO and ends
            self.master = -1
        self.thread.join(timeout=5)
