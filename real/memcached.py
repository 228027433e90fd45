"""memcached (Debian's) with 4 worker threads on a TCP port chosen free at the start (no UDP), in the
foreground, driven by a small client speaking memcached's text protocol over TCP.

Every client round k (after the start, before each dump, after each restore) gets, in one connection, the
50 items of each earlier round (values, flags), a counter incremented once per round, an item appended to
once per round, and checks the server's stats (curr_items; cmd_set and incr_hits count every command since
the start, so a restarted memcached would be caught); then sets round k's items, increments and appends. End:
SIGTERM. Verified: every round passed in order (client.txt), and memcached said nothing on stderr but its
own shutdown.
"""

import socket
from pathlib import Path

from zdtm.real import Real, command, free_port, lines, listening, wait_tcp_idle

ITEMS = 50  # set per round


def argv(wd: Path) -> list[str]:
    port = free_port()
    (wd / "port").write_text(f"{port}\n")
    exe = command("memcached") or "memcached"
    # -u root: memcached refuses to run as root without it; -U 0: no UDP port
    return [exe, "-u", "root", "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-t", "4", "-m", "64"]


def port(wd: Path) -> int:
    return int((wd / "port").read_text())


def value(k: int, i: int) -> bytes:
    return (f"m{k}.{i}:" + "y" * ((k * 13 + i * 5) % 300)).encode()


class Conn:
    """One TCP connection to memcached, reading replies line by line."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10.0)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"memcached closed the connection (read so far {self.buf[-80:]!r})")
            self.buf += chunk
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def data(self, n: int) -> bytes:
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("memcached closed the connection in a value")
            self.buf += chunk
        d, self.buf = self.buf[:n], self.buf[n + 2 :]
        return d

    def get(self, keys: list[str]) -> dict[str, tuple[int, bytes]]:
        self.send(b"get " + " ".join(keys).encode() + b"\r\n")
        got = {}
        while (ln := self.line()) != b"END":
            head = ln.split()
            if head[0] != b"VALUE":
                raise ConnectionError(f"get: {ln!r}")
            got[head[1].decode()] = (int(head[2]), self.data(int(head[3])))
        return got

    def command(self, cmd: bytes, data: bytes | None = None) -> bytes:
        self.send(cmd + b"\r\n" + (data + b"\r\n" if data is not None else b""))
        return self.line()

    def stats(self) -> dict[str, str]:
        self.send(b"stats\r\n")
        got = {}
        while (ln := self.line()) != b"END":
            _, name, val = ln.decode().split(" ", 2)
            got[name] = val
        return got

    def close(self) -> None:
        self.sock.close()


def client(wd: Path, k: int) -> list[str]:
    problems: list[str] = []
    conn = Conn(port(wd))
    try:
        keys = [f"r{j}:{i}" for j in range(k) for i in range(ITEMS)]
        got = conn.get(keys + ["counter", "log"]) if k else conn.get(["counter", "log"])
        for j in range(k):
            for i in range(ITEMS):
                want = (j * 1000 + i, value(j, i))
                if got.get(f"r{j}:{i}") != want:
                    problems.append(f"r{j}:{i}: {got.get(f'r{j}:{i}')!r:.80}, expected {want!r:.80}")
        want_counter = (0, str(k).encode()) if k else None
        want_log = (7, "".join(f"<{j}>" for j in range(k)).encode()) if k else None
        if got.get("counter") != want_counter or got.get("log") != want_log:
            problems.append(f"counter {got.get('counter')!r}, log {got.get('log')!r}: expected round {k}'s")
        stats = conn.stats()
        want = {
            "curr_items": k * ITEMS + (2 if k else 0),
            "cmd_set": k * ITEMS + (2 + k if k else 0),  # every storage command: sets and appends
            "incr_hits": k,
        }
        got_stats = {name: stats.get(name) for name in want}
        if got_stats != {name: str(n) for name, n in want.items()}:
            problems.append(f"stats {got_stats}, expected {want}")
        if problems:
            return problems[:10]
        for i in range(ITEMS):
            v = value(k, i)
            r = conn.command(f"set r{k}:{i} {k * 1000 + i} 0 {len(v)}".encode(), v)
            if r != b"STORED":
                return [f"set r{k}:{i}: {r!r}"]
        if k == 0:
            for cmd in (b"set counter 0 0 1", b"set log 7 0 0"):
                r = conn.command(cmd, b"0" if b"counter" in cmd else b"")
                if r != b"STORED":
                    return [f"{cmd.decode()}: {r!r}"]
        r = conn.command(b"incr counter 1")
        if r != str(k + 1).encode():
            return [f"incr counter: {r!r}, expected {k + 1}"]
        tag = f"<{k}>".encode()
        r = conn.command(f"append log 0 0 {len(tag)}".encode(), tag)
        if r != b"STORED":
            return [f"append log: {r!r}"]
    finally:
        conn.close()
    problems = wait_tcp_idle(port(wd))
    if not problems:
        with open(wd / "client.txt", "a") as f:
            f.write(f"{k}\n")
    return problems


def verify(wd: Path) -> list[str]:
    problems = []
    rounds = lines(wd / "client.txt")
    if rounds != [str(j) for j in range(len(rounds))] or len(rounds) < 2:
        problems.append(f"client.txt: rounds {rounds}, expected 0, 1, ... (at least 2)")
    said = [ln for ln in lines(wd / "memcached.stderr") if not ln.startswith(("$ ", "Signal handled"))]
    if said:
        problems.append(f"memcached.stderr: {said[:3]!r}")
    return problems


PROGRAM = Real(
    argv=argv,
    ready=lambda wd: (wd / "port").exists() and listening(port(wd)),
    client=client,
    verify=verify,
    needs=("memcached",),
    stop="SIGTERM",
    check_state=True,  # between client rounds the server holds still
)
