"""Two ends of one TCP connection streaming numbered records both ways at once (real/tcpstream.py and
real/tcpstream_ext.py), each checking every record it receives: its number is the next one and its
payload the one the peer must have sent for that number (so a byte lost, doubled or reordered is caught).

    tcpstream.py pair PORTFILE     the root listens, forks the server end, and is the client end
    tcpstream.py server PORTFILE   the server end alone (the peer outside the tree)
    tcpstream.py client PORTFILE   the client end alone, connecting to the port in PORTFILE

The server end reads only half of each 200 ms, into a small receive buffer, so that data waits in both
ends' queues (its receive queue, the client's send queue) at many moments. Each end appends the count of
records received to recv-ROLE.txt every 50 records. SIGTERM to the client
end ends the stream: it sends "END <sent>" and shuts its writing side; the server end answers with its own
"END <sent>" once it got the client's, then both read to EOF, check the peer's total and write
done-ROLE.txt ("done sent=S recv=R"); a problem goes to done-ROLE.txt as "ERROR ..." and exit status 1.
"""

import hashlib
import os
import selectors
import signal
import socket
import sys
import time
from pathlib import Path

LOG_EVERY = 50
BATCH = 20  # records queued every PACE seconds
PACE = 0.002


def payload(role: str, i: int) -> bytes:
    h = hashlib.blake2b(f"{role}:{i}".encode(), digest_size=32).hexdigest()
    return (h * 4)[: 4 + (i * 37) % 120].encode()


class End:
    def __init__(self, role: str, sock: socket.socket) -> None:
        self.role, self.peer = role, "server" if role == "client" else "client"
        self.sock = sock
        self.sent = 0  # records queued
        self.recv = 0
        self.out = bytearray()
        self.inbuf = bytearray()
        self.stopping = False  # no more records: END queued
        self.peer_end: int | None = None
        self.wr_shut = False
        self.log = open(f"recv-{role}.txt", "a")  # noqa: SIM115

    def fail(self, why: str) -> None:
        Path(f"done-{self.role}.txt").write_text(f"ERROR {why} (sent={self.sent} recv={self.recv})\n")
        sys.exit(1)

    def stop(self) -> None:
        if not self.stopping:
            self.stopping = True
            self.out += f"END {self.sent}\n".encode()

    def produce(self) -> None:
        for _ in range(BATCH):
            self.sent += 1
            self.out += b"%d %s\n" % (self.sent, payload(self.role, self.sent))

    def consume(self, data: bytes) -> None:
        self.inbuf += data
        while (nl := self.inbuf.find(b"\n")) >= 0:
            line = bytes(self.inbuf[:nl])
            del self.inbuf[: nl + 1]
            if self.peer_end is not None:
                self.fail(f"data after the peer's END: {line[:60]!r}")
            if line.startswith(b"END "):
                self.peer_end = int(line[4:])
                if self.peer_end != self.recv:
                    self.fail(f"the peer says it sent {self.peer_end} records, {self.recv} arrived")
                if self.role == "server":
                    self.stop()
                continue
            n, _, body = line.partition(b" ")
            if int(n) != self.recv + 1 or body != payload(self.peer, self.recv + 1):
                self.fail(f"record {self.recv + 1} expected, got {line[:60]!r}")
            self.recv += 1
            if self.recv % LOG_EVERY == 0:
                self.log.write(f"{self.recv}\n")
                self.log.flush()

    def run(self, stop_flag: list[bool]) -> None:
        self.sock.setblocking(False)
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        next_batch = time.monotonic()
        eof = False
        while not (eof and self.wr_shut):
            if stop_flag[0]:
                self.stop()
            now = time.monotonic()
            if not self.stopping and now >= next_batch:
                if len(self.out) < 1 << 20:  # the peer is frozen (being dumped): hold back
                    self.produce()
                next_batch = now + PACE
            # the server end stops reading half of each 200 ms: data waits in its receive queue (small)
            # and in the client's send queue, so that a dump finds both queues busy half of the time
            lazy = self.role == "server" and now % 0.2 < 0.1 and not self.stopping
            want = (0 if eof or lazy else selectors.EVENT_READ) | (selectors.EVENT_WRITE if self.out else 0)
            if want:
                sel.modify(self.sock, want)
            for _, ev in sel.select(PACE) if want else time.sleep(PACE) or []:
                if ev & selectors.EVENT_READ and not eof:
                    try:
                        data = self.sock.recv(65536)
                    except BlockingIOError:
                        data = None
                    except OSError as e:
                        self.fail(f"recv: {e}")
                    if data == b"":
                        eof = True
                        if self.peer_end is None:
                            self.fail("EOF before the peer's END")
                    elif data:
                        self.consume(data)
                if ev & selectors.EVENT_WRITE and self.out:
                    try:
                        n = self.sock.send(self.out)
                    except BlockingIOError:
                        n = 0
                    except OSError as e:
                        self.fail(f"send: {e}")
                    del self.out[:n]
            if self.stopping and not self.out and not self.wr_shut:
                self.sock.shutdown(socket.SHUT_WR)
                self.wr_shut = True
        self.log.close()
        Path(f"done-{self.role}.txt").write_text(f"done sent={self.sent} recv={self.recv}\n")


def listen(portfile: Path) -> socket.socket:
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # the accepted socket's: a small window
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    tmp = portfile.with_suffix(".tmp")
    tmp.write_text(f"{ls.getsockname()[1]}\n")
    os.replace(tmp, portfile)
    return ls


def connect(portfile: Path) -> socket.socket:
    deadline = time.monotonic() + 10
    while not portfile.exists():
        if time.monotonic() > deadline:
            sys.exit(f"no {portfile} after 10 s")
        time.sleep(0.01)
    return socket.create_connection(("127.0.0.1", int(portfile.read_text())), timeout=10)


def main() -> int:
    mode, portfile = sys.argv[1], Path(sys.argv[2])
    stop_flag = [False]
    if mode in ("client", "pair"):
        signal.signal(signal.SIGTERM, lambda *_: stop_flag.__setitem__(0, True))
    else:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the server end ends with the stream
    if mode == "server":
        ls = listen(portfile)
        conn, _ = ls.accept()
        ls.close()
        End("server", conn).run(stop_flag)
        return 0
    if mode == "client":
        End("client", connect(portfile)).run(stop_flag)
        return 0
    ls = listen(portfile)
    child = os.fork()
    if child == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        conn, _ = ls.accept()
        ls.close()
        try:
            End("server", conn).run([False])
        except SystemExit as e:
            os._exit(e.code if isinstance(e.code, int) else 1)
        os._exit(0)
    ls.close()
    try:
        End("client", connect(portfile)).run(stop_flag)
    finally:
        _, status = os.waitpid(child, 0)
    return 0 if os.waitstatus_to_exitcode(status) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
