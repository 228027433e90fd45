"""The network lock: between the dump of an established connection whose peer is outside the tree and the
restore of its socket, no segment of that 4-tuple may pass (the repair-mode socket would take data its
image does not hold; once closed, the kernel would answer the peer with RST).

One nftables table per dump (`inet stasis-<...>`), with a set per family holding one element per
direction of every such connection, and input/output chains that drop what the sets match — except
packets marked SOCCR_MARK (CRIU's 0xc114). Driven with Debian's `nft -f -` in the socket's network
namespace: the table is added before repair mode, kept after a kill-mode dump, added again at restore
if it is gone (another boot, another host), and removed once the restored sockets exist, or by a failed
dump, a dump with --leave-running and a failed restore. Connections whose both ends are dumped need no
lock: both are closed in repair mode (silently) and rebuilt before anything is sent.

A tree with a network namespace of its own is also locked whole, as criu does it (`NetnsLock`): from
right after the freeze (criu's network-lock hook) to the end of the dump, and at restore from the
rebuilt namespace to the teardown (before the engine's last traffic there: a FIN replayed, a tail never
sent, a SYN in flight; the caller's network-unlock hook comes after post-restore, as criu sends it), a
table `inet stasis-netns-<...>` in that namespace drops every packet in and out but SOCCR_MARK's (the
engine's refill of queued datagrams carries it). The dumped ruleset leaves it out (its name), a killed
tree's namespace takes it along, and --network-lock skip does without.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess

from engine.abi import nr
from engine.abi.consts import CLONE_NEWNET, SOCCR_MARK
from engine.native import lib
from engine.record import record

NFT_TIMEOUT = 20.0


@record(frozen=True)
class Conn:
    """One locked connection: the dumped end's address and port, and the peer's."""

    family: int
    src: str
    sport: int
    dst: str
    dport: int


def available() -> bool:
    return shutil.which("nft") is not None


def table_name(root: int) -> str:
    """A name of its own for each dump (another dump's lock is never touched)."""
    return f"stasis-{root}-{os.getpid()}-{int.from_bytes(os.urandom(4), 'little'):08x}"


def _v4(host: str) -> str | None:
    """The IPv4 form of an IPv4 or IPv4-mapped IPv6 address (lock rules see IPv4 packets)."""
    a = ipaddress.ip_address(host.split("%", 1)[0])
    if isinstance(a, ipaddress.IPv4Address):
        return str(a)
    return str(a.ipv4_mapped) if a.ipv4_mapped else None


def _elements(conns: list[Conn]) -> tuple[list[str], list[str]]:
    four: list[str] = []
    six: list[str] = []
    for c in conns:
        s4, d4 = _v4(c.src), _v4(c.dst)
        if s4 and d4:
            four += [f"{s4} . {c.sport} . {d4} . {c.dport}", f"{d4} . {c.dport} . {s4} . {c.sport}"]
        else:
            s, d = c.src.split("%", 1)[0], c.dst.split("%", 1)[0]
            six += [f"{s} . {c.sport} . {d} . {c.dport}", f"{d} . {c.dport} . {s} . {c.sport}"]
    return four, six


def _script(table: str, conns: list[Conn], create: bool) -> str:
    rules = (f"meta mark {SOCCR_MARK:#x} accept; "
             "ip saddr . tcp sport . ip daddr . tcp dport @conns4 drop; "
             "ip6 saddr . tcp sport . ip6 daddr . tcp dport @conns6 drop;")
    out = []
    if create:
        out.append(f"table inet {table} {{\n"
                   "  set conns4 { type ipv4_addr . inet_service . ipv4_addr . inet_service; }\n"
                   "  set conns6 { type ipv6_addr . inet_service . ipv6_addr . inet_service; }\n"
                   f"  chain out {{ type filter hook output priority 0; {rules} }}\n"
                   f"  chain in {{ type filter hook input priority 0; {rules} }}\n"
                   "}")
    four, six = _elements(conns)
    if four:
        out.append(f"add element inet {table} conns4 {{ {', '.join(four)} }}")
    if six:
        out.append(f"add element inet {table} conns6 {{ {', '.join(six)} }}")
    return "\n".join(out) + "\n"


def _nft(args: list[str], script: str | None, nsfd: int) -> subprocess.CompletedProcess[str]:
    """nft in the network namespace of nsfd (-1: the engine's own)."""
    def enter() -> None:
        if nsfd >= 0 and lib.st_syscall(nr.setns, nsfd, CLONE_NEWNET, 0, 0, 0, 0) < 0:
            os._exit(126)

    same = nsfd < 0 or os.stat(f"/proc/self/fd/{nsfd}").st_ino == os.stat("/proc/self/ns/net").st_ino
    return subprocess.run(["nft", *args], input=script, capture_output=True, text=True, timeout=NFT_TIMEOUT,
                          pass_fds=() if same else (nsfd,), preexec_fn=None if same else enter, check=False)


def exists(table: str, nsfd: int = -1) -> bool:
    return _nft(["list", "table", "inet", table], None, nsfd).returncode == 0


def lock(table: str, conns: list[Conn], nsfd: int = -1) -> None:
    """Add the table (or only the elements, if it is there already). Raises OSError with nft's words."""
    if not conns:
        return
    if not available():
        raise OSError(2, "nft is not installed (Debian package nftables)")
    r = _nft(["-f", "-"], _script(table, conns, create=not exists(table, nsfd)), nsfd)
    if r.returncode:
        raise OSError(1, f"nft: {r.stderr.strip() or r.stdout.strip() or f'exit {r.returncode}'}")


def unlock(table: str, nsfd: int = -1) -> None:
    """Remove the table; one already gone is no error."""
    if not available() or not exists(table, nsfd):
        return
    r = _nft(["delete", "table", "inet", table], None, nsfd)
    if r.returncode and exists(table, nsfd):
        raise OSError(1, f"nft delete table inet {table}: {r.stderr.strip()}")


class NetnsLock:
    """criu's lock of a whole network namespace (the tree's own): one table dropping all but SOCCR_MARK."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.table = f"stasis-netns-{pid}-{os.getpid()}-{int.from_bytes(os.urandom(4), 'little'):08x}"
        self.nsfd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        self.locked = False

    def lock(self) -> None:
        """Raises OSError with nft's words."""
        if not available():
            raise OSError(2, "nft is not installed (Debian package nftables): the network namespace cannot "
                             "be locked (use --network-lock skip to go without)")
        rules = f"type filter hook {{}} priority 0; policy drop; meta mark {SOCCR_MARK:#x} accept;"
        script = (f"table inet {self.table} {{\n"
                  f"  chain out {{ {rules.format('output')} }}\n"
                  f"  chain in {{ {rules.format('input')} }}\n"
                  "}\n")
        r = _nft(["-f", "-"], script, self.nsfd)
        if r.returncode:
            raise OSError(1, f"nft: {r.stderr.strip() or r.stdout.strip() or f'exit {r.returncode}'}")
        self.locked = True

    def unlock(self) -> None:
        """The table gone (also when the namespace is; each call closes nothing but the table)."""
        if self.locked:
            self.locked = False
            unlock(self.table, self.nsfd)

    def close(self) -> None:
        if self.nsfd >= 0:
            os.close(self.nsfd)
            self.nsfd = -1
