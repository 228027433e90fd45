"""memcached (as real/memcached) serving on UDP only (-p 0: no TCP listener), driven by a client speaking
memcached's UDP protocol (each datagram with its 8-byte frame header: request id, sequence number, count).
memcached hands one UDP socket to each of its 4 worker threads (dup()s of one socket: one socket, many
fds), so this is a server with sockets that needs no TCP.

Every client round k (after the start, before each dump, after each restore): every item of the earlier
rounds is there (one get per datagram, each answer matched to its request id), the counter counts the
rounds; then round k's items are set and the counter incremented. End: SIGTERM. Verified: every round passed
in order (client.txt), memcached said nothing on stderr.
"""

import socket
import struct
from pathlib import Path

from zdtm.real import Real, command, free_port, lines, module

BASE = module(Path(__file__).resolve().with_name("memcached.py"))
ITEMS = 20  # set per round


def argv(wd: Path) -> list[str]:
    port = free_port()
    (wd / "port").write_text(f"{port}\n")
    exe = command("memcached") or "memcached"
    return [exe, "-u", "root", "-l", "127.0.0.1", "-p", "0", "-U", str(port), "-t", "4", "-m", "64"]


def ready(wd: Path) -> bool:
    if not (wd / "port").exists():
        return False
    try:
        return ask(wd, 0xFFFF, b"version\r\n").startswith(b"VERSION ")
    except OSError:
        return False


def ask(wd: Path, rid: int, req: bytes) -> bytes:
    """One request in one datagram; the answer of that request id (one datagram: small items)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2.0)
        s.connect(("127.0.0.1", int((wd / "port").read_text())))
        s.send(struct.pack("!HHHH", rid, 0, 1, 0) + req)
        while True:
            data = s.recv(65536)
            got_rid, seq, total, _ = struct.unpack("!HHHH", data[:8])
            if got_rid == rid:
                if (seq, total) != (0, 1):
                    raise ConnectionError(f"answer {rid} in {total} datagrams")
                return data[8:]


def client(wd: Path, k: int) -> list[str]:
    problems: list[str] = []
    rid = k * 1000
    for j in range(k):
        for i in range(ITEMS):
            rid += 1
            v = BASE.value(j, i)
            want = b"VALUE u%d:%d %d %d\r\n%s\r\nEND\r\n" % (j, i, j, len(v), v)
            got = ask(wd, rid, f"get u{j}:{i}\r\n".encode())
            if got != want:
                problems.append(f"get u{j}:{i}: {got[:80]!r}, expected {want[:80]!r}")
    rid += 1
    got = ask(wd, rid, b"get counter\r\n")
    want = b"VALUE counter 0 %d\r\n%d\r\nEND\r\n" % (len(str(k)), k) if k else b"END\r\n"
    if got != want:
        problems.append(f"get counter: {got!r}, expected {want!r}")
    if problems:
        return problems[:10]
    for i in range(ITEMS):
        rid += 1
        v = BASE.value(k, i)
        got = ask(wd, rid, b"set u%d:%d %d 0 %d\r\n%s\r\n" % (k, i, k, len(v), v))
        if got != b"STORED\r\n":
            return [f"set u{k}:{i}: {got!r}"]
    if k == 0:
        rid += 1
        got = ask(wd, rid, b"set counter 0 0 1\r\n0\r\n")
        if got != b"STORED\r\n":
            return [f"set counter: {got!r}"]
    rid += 1
    got = ask(wd, rid, b"incr counter 1\r\n")
    if got != b"%d\r\n" % (k + 1):
        return [f"incr counter: {got!r}, expected {k + 1}"]
    with open(wd / "client.txt", "a") as f:
        f.write(f"{k}\n")
    return []


def verify(wd: Path) -> list[str]:
    problems = []
    rounds = lines(wd / "client.txt")
    if rounds != [str(j) for j in range(len(rounds))] or len(rounds) < 2:
        problems.append(f"client.txt: rounds {rounds}, expected 0, 1, ... (at least 2)")
    said = [ln for ln in lines(wd / "memcached_udp.stderr") if not ln.startswith(("$ ", "Signal handled"))]
    if said:
        problems.append(f"memcached_udp.stderr: {said[:3]!r}")
    return problems


PROGRAM = Real(
    argv=argv,
    ready=ready,
    client=client,
    verify=verify,
    needs=("memcached",),
    stop="SIGTERM",
    check_state=True,  # between client rounds the server holds still
)
