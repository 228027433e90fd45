"""TCP sockets (inet_sk_entry + tcp-stream-<ino %x>.img), IPv4 and IPv6.

Listeners (backlog, accept queue: refused unless --skip-in-flight), closed and never-connected sockets
are rebuilt from their options and bound address; a connect() in progress (SYN_SENT, with
--tcp-established) from its port and first sequence number, its SYN sent again in restore_done.
Connections (ESTABLISHED and the half-closed states) need --tcp-established: their state is read
with TCP_REPAIR on the engine's dup of the socket (tcp_repair.py), between a network lock (netlock.py,
only for connections whose peer is not dumped) and the end of the dump. Repair mode stays on until the
tree is let go: dump_done turns it off (the tree runs on) or leaves it on while the tree is killed (the
peer sees nothing). At restore a connection is rebuilt in repair mode and kept there until
restore_done, which unlocks the network, turns repair off everywhere and then sends what had never been
sent and re-creates the FINs. --tcp-close: connections are dumped without their streams and restored
closed (bound, shut down), as criu does.

The counters of a listener come from TCP_INFO, which reports exactly what inet_diag does for it
(tcpi_unacked = sk_ack_backlog = idiag_rqueue, tcpi_sacked = sk_max_ack_backlog = idiag_wqueue) without
a netlink dump.
"""

from __future__ import annotations

import errno
import os
import socket
from typing import TYPE_CHECKING

from engine.abi.consts import (
    TCP_CLOSE,
    TCP_CLOSE_WAIT,
    TCP_CLOSING,
    TCP_CONGESTION,
    TCP_DEFER_ACCEPT,
    TCP_ESTABLISHED,
    TCP_FASTOPEN,
    TCP_FIN_WAIT1,
    TCP_FIN_WAIT2,
    TCP_LAST_ACK,
    TCP_LINGER2,
    TCP_LISTEN,
    TCP_NOTSENT_LOWAT,
    TCP_REPAIR,
    TCP_SYN_RECV,
    TCP_SYN_SENT,
    TCP_SYNCNT,
    TCP_THIN_LINEAR_TIMEOUTS,
    TCP_USER_TIMEOUT,
    TCP_WINDOW_CLAMP,
)
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import sk_inet_pb2, sk_opts_pb2, tcp_stream_pb2
from engine.log import log
from engine.objects.base import KernelObject
from engine.objects.files import inet, netlock, sockets, tcp_repair
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.objects.files.kind import Fd
    from engine.task import Task

SOL_TCP = socket.IPPROTO_TCP
STATE_NAMES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT",
               7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING"}
CONN_STATES = (TCP_ESTABLISHED, TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_CLOSING)
PEER_FIN_STATES = (TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_CLOSING)  # as tcp_repair (its import may be under way)
TCP_MSS_DEFAULT = 536  # TCP_MAXSEG of a socket whose program never set it
LOCK_METHODS = {"iptables": 0, "nftables": 1, "skip": 2}
Addr = tuple[str, int]


def _state_name(state: int) -> str:
    return STATE_NAMES.get(state, str(state))


# -- dump ------------------------------------------------------------------------------------------

@record
class Seen:
    """What check saw of one TCP socket (once per socket, whichever fd came first)."""

    fd: Fd
    state: int
    netns: int
    local: Addr
    peer: Addr | None
    family: int


@record
class TcpDump:
    seen: dict[int, Seen] = field(default_factory=dict)  # by inode
    repaired: dict[int, tcp_repair.Repaired] = field(default_factory=dict)  # by inode, repair mode on
    in_tree: set[int] = field(default_factory=set)  # connections whose other end is dumped too
    locks: dict[int, int] = field(default_factory=dict)  # netns inode -> an fd of it, a table in it
    table: str = ""
    streams: list[tuple[int, tcp_stream_pb2.tcp_stream_entry, bytes]] = field(default_factory=list)


def _addr(a: tuple[str, int] | tuple[str, int, int, int]) -> Addr:
    return (a[0].split("%", 1)[0], a[1])


def check(ctx: DumpContext, t: Task, fd: Fd) -> None:
    assert fd.sock is not None
    st = ctx.files.state(TcpDump)
    with sockets.dup(fd) as sk:
        info = tcp_repair.tcp_info(sk)
        state = info.state
        if state == TCP_LISTEN:
            if info.unacked and not ctx.opts.skip_in_flight:
                raise UnsupportedError(f"{fd.where}: TCP listener with {info.unacked} connection(s) not yet "
                                       "accepted (use --skip-in-flight to forget them)")
        elif state == TCP_SYN_RECV:
            raise UnsupportedError(f"{fd.where}: TCP socket in state {_state_name(state)}")
        elif state in CONN_STATES or state == TCP_SYN_SENT:
            if not (ctx.opts.tcp_established or ctx.opts.tcp_close):
                raise UnsupportedError(f"{fd.where}: TCP connection ({_state_name(state)}): dumping it needs "
                                       "--tcp-established (or --tcp-close)")
            if not ctx.opts.tcp_close:
                tcp_repair.check_kernel(fd.where)
        elif state != TCP_CLOSE:
            raise UnsupportedError(f"{fd.where}: TCP socket in state {_state_name(state)}")
        if fd.sock.ino in st.seen:
            return
        try:
            peer: Addr | None = _addr(sk.getpeername())
        except OSError:
            peer = _syn_sent_peer(fd) if state == TCP_SYN_SENT else None
        st.seen[fd.sock.ino] = Seen(fd, state, sockets.netns_ino(sk), _addr(sk.getsockname()), peer,
                                    sk.family)


def _syn_sent_peer(fd: Fd) -> Addr:
    """Where a connect() in progress goes: getpeername says ENOTCONN until it is done; /proc/PID/net/tcp*
    (the task's network namespace) has it by inode."""
    import ipaddress

    assert fd.sock is not None
    for name in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{fd.pid}/net/{name}") as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            col = line.split()
            if len(col) > 9 and col[9] == str(fd.sock.ino):
                host, port = col[2].split(":")
                raw = bytes.fromhex(host)
                # the kernel prints each 32-bit word of the address in host (little-endian) order
                raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                return (str(ipaddress.ip_address(raw)), int(port, 16))
    raise UnsupportedError(f"{fd.where}: TCP connect() in progress: its destination is not in /proc/net/tcp")


def _canon(a: Addr) -> Addr:
    """IPv4-mapped IPv6 as IPv4: both ends of one connection may be of different families."""
    host = a[0].lower()
    return (host[7:], a[1]) if host.startswith("::ffff:") and "." in host else (host, a[1])


def _conns(st: TcpDump) -> list[tuple[int, Seen]]:
    """Connections and connect()s in progress (no lock for these: a peer's SYN-ACK met meanwhile by a RST
    only drops its half-open connection, and the restored socket sends its SYN again)."""
    return [(ino, s) for ino, s in st.seen.items()
            if (s.state in CONN_STATES or s.state == TCP_SYN_SENT) and s.peer is not None]


def dump_tree(ctx: DumpContext) -> None:
    """Lock the connections whose peer stays outside, then put every connection in repair mode (all of
    them before any is read: no end of a dumped pair sends to the other once both are read)."""
    st = ctx.files.state(TcpDump)
    conns = _conns(st)
    if not conns or ctx.opts.tcp_close:
        return
    ends = {(s.netns, _canon(s.local), _canon(s.peer)) for _, s in conns if s.peer is not None}
    outside: list[Seen] = []
    for ino, s in conns:
        assert s.peer is not None
        if s.state == TCP_SYN_SENT:
            continue
        if (s.netns, _canon(s.peer), _canon(s.local)) in ends:
            st.in_tree.add(ino)
        else:
            outside.append(s)
    method = ctx.opts.network_lock
    if outside and method == "iptables":
        raise UnsupportedError(f"{outside[0].fd.where}: --network-lock iptables: iptables is not installed "
                               "here; use nftables (the default) or skip")
    if outside and method == "nftables":
        if not netlock.available():
            raise UnsupportedError(f"{outside[0].fd.where}: a TCP connection to a peer outside the tree "
                                   "needs the network lock, and nft (Debian package nftables) is not "
                                   "installed; or use --network-lock skip")
        st.table = netlock.table_name(ctx.opts.tree)
        by_ns: dict[int, list[netlock.Conn]] = {}
        for s in outside:
            assert s.peer is not None
            by_ns.setdefault(s.netns, []).append(netlock.Conn(s.family, s.local[0], s.local[1], s.peer[0],
                                                              s.peer[1]))
        for ns, cs in by_ns.items():
            with sockets.dup(next(x.fd for x in outside if x.netns == ns)) as sk:
                st.locks[ns] = sockets.netns_fd(sk)
            try:
                netlock.lock(st.table, cs, st.locks[ns])
            except OSError as exc:
                raise UnsupportedError(f"network lock for {len(cs)} connection(s): {exc.strerror}") from exc
        log.info("tcp: network lock %s on %d connection(s)", st.table, len(outside))
    for ino, s in conns:
        st.repaired[ino] = tcp_repair.repair_on(s.fd)


def dump_tcp_opts(sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry, state: int) -> None:
    to = isk.tcp_opts
    to.nodelay = bool(sk.getsockopt(SOL_TCP, socket.TCP_NODELAY))
    to.cork = bool(sk.getsockopt(SOL_TCP, socket.TCP_CORK))
    to.keepcnt = sk.getsockopt(SOL_TCP, socket.TCP_KEEPCNT)
    to.keepidle = sk.getsockopt(SOL_TCP, socket.TCP_KEEPIDLE)
    to.keepintvl = sk.getsockopt(SOL_TCP, socket.TCP_KEEPINTVL)
    x = isk.stasis
    cc = sk.getsockopt(SOL_TCP, TCP_CONGESTION, 16).split(b"\0", 1)[0].decode()
    if cc:
        x.congestion = cc
    for name, opt in _EXT_TCP_OPTS:
        v = _get(sk, opt)
        if v is not None:
            setattr(x, name, bool(v) if name == "thin_lto" else v)
    if state in (TCP_CLOSE, TCP_LISTEN):
        mss = _get(sk, socket.TCP_MAXSEG)
        if mss is not None and mss != TCP_MSS_DEFAULT:
            x.maxseg = mss
        clamp = _get(sk, TCP_WINDOW_CLAMP)
        if clamp:
            x.window_clamp = clamp
        fo = _get(sk, TCP_FASTOPEN)
        if fo:
            x.fastopen = fo


# (field of stasis_inet_sk_entry, option), any state
_EXT_TCP_OPTS: tuple[tuple[str, int], ...] = (
    ("user_timeout", TCP_USER_TIMEOUT), ("notsent_lowat", TCP_NOTSENT_LOWAT),
    ("defer_accept", TCP_DEFER_ACCEPT),
    ("syncnt", TCP_SYNCNT), ("linger2", TCP_LINGER2), ("thin_lto", TCP_THIN_LINEAR_TIMEOUTS),
)


def _get(sk: socket.socket, opt: int) -> int | None:
    try:
        return sk.getsockopt(SOL_TCP, opt)
    except OSError:
        return None


def _shutdown_of(sk: socket.socket, state: int) -> int:
    """sk_shutdown as far as it matters: WRITE after our FIN; READ after shutdown(SHUT_RD) (poll's RDHUP
    in a state where no FIN of the peer came in)."""
    import select

    how = 0
    if state in tcp_repair.OUR_FIN_STATES:
        how |= sk_opts_pb2.WRITE
    if state in (TCP_ESTABLISHED, TCP_FIN_WAIT1, TCP_FIN_WAIT2):
        p = select.poll()
        p.register(sk.fileno(), select.POLLIN | select.POLLRDHUP)
        if any(ev & select.POLLRDHUP for _, ev in p.poll(0)):
            how |= sk_opts_pb2.READ
    return how


def _reads_eof(sk: socket.socket) -> bool:
    """A closed socket whose reads give end-of-file (RCV_SHUTDOWN or a finished connection) rather than
    ENOTCONN; writes give EPIPE either way. Peeked, so nothing is consumed; not asked at all with an error
    pending (POLLERR), which any recv would take away from the task."""
    import select

    p = select.poll()
    p.register(sk.fileno(), select.POLLIN)
    if any(ev & select.POLLERR for _, ev in p.poll(0)):
        return False
    try:
        return sk.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except OSError:
        return False


def dump(ctx: DumpContext, t: Task, fd: Fd, isk: sk_inet_pb2.inet_sk_entry) -> None:
    assert fd.sock is not None
    st = ctx.files.state(TcpDump)
    seen = st.seen[fd.sock.ino]
    rep = st.repaired.get(fd.sock.ino)
    with sockets.dup(fd) as sk:
        isk.state = seen.state
        inet.dump_addrs(sk, isk)
        inet.dump_ip_opts(sk, isk)
        sockets.dump_opts(sk, isk.opts)
        if rep is not None:
            isk.opts.reuseaddr = bool(rep.reuseaddr)  # repair mode reads 2
        dump_tcp_opts(sk, isk, seen.state)
        if seen.state == TCP_LISTEN:
            info = tcp_repair.tcp_info(sk)
            isk.backlog = info.sacked
            if info.unacked:
                isk.stasis.accept_queue = info.unacked
                log.warning("%s: %d connection(s) not yet accepted are forgotten (--skip-in-flight)",
                            fd.where, info.unacked)
        else:
            isk.backlog = 0
        if seen.state == TCP_CLOSE and _reads_eof(sk):
            isk.shutdown = sk_opts_pb2.BOTH  # its connection ended, or a --tcp-close restore shut it
        if seen.state == TCP_SYN_SENT and seen.peer is not None:
            isk.dst_addr.extend(inet.addr_to_entry(sk.family, seen.peer[0]))
            isk.dst_port = seen.peer[1]
        if seen.state in CONN_STATES:
            isk.shutdown = _shutdown_of(sk, seen.state)  # type: ignore[assignment]
            isk.stasis.peer_in_tree = fd.sock.ino in st.in_tree
            if st.table and fd.sock.ino not in st.in_tree:
                isk.stasis.lock_table = st.table
    if rep is not None:
        entry, data = tcp_repair.read_stream(rep.sk, seen.state, fd.where)
        st.streams.append((fd.sock.ino, entry, data))


def write_images(ctx: DumpContext) -> None:
    for ino, entry, data in ctx.files.state(TcpDump).streams:
        ctx.images.write("tcp-stream", entry, extras=[data], ino=ino)


def dump_done(ctx: DumpContext, kill: bool) -> None:
    """Kill: the dups are closed with repair still on (the tree's sockets close silently when it dies)
    and the lock stays for the restore. Else repair off, SO_REUSEADDR back, lock gone."""
    st = ctx.files.state(TcpDump)
    first: Exception | None = None
    for ino, rep in list(st.repaired.items()):
        try:
            if not kill:
                tcp_repair.repair_off(rep)
        except OSError as exc:
            first = first or exc
            log.error("tcp: socket %d: leaving repair mode: %s", ino, exc)
        finally:
            rep.sk.close()
    st.repaired.clear()
    for nsfd in list(st.locks.values()):
        try:
            if not kill:
                netlock.unlock(st.table, nsfd)
        except OSError as exc:
            first = first or exc
        finally:
            os.close(nsfd)
    st.locks.clear()
    if first is not None:
        raise first


def inventory(opts: object) -> tuple[bool, int]:
    """(tcp_close, network_lock_method) of a dump's inventory."""
    method = LOCK_METHODS.get(getattr(opts, "network_lock", "nftables"), 1)
    return bool(getattr(opts, "tcp_close", False)), method


# -- restore ---------------------------------------------------------------------------------------

@record
class Pending:
    """A connection rebuilt in repair mode, finished in restore_done."""

    fd: int
    isk: sk_inet_pb2.inet_sk_entry
    stream: tcp_stream_pb2.tcp_stream_entry
    tail: bytes  # the never-sent end of the send queue


@record
class TcpRestore:
    loaded: bool = False
    tcp_close: bool = False
    lock_method: int = 1
    streams: dict[int, tuple[tcp_stream_pb2.tcp_stream_entry, bytes]] = field(default_factory=dict)
    pending: list[Pending] = field(default_factory=list)
    tables: set[str] = field(default_factory=set)  # locks this restore made (again) and has to remove
    image_tables: set[str] = field(default_factory=set)  # the locks the images name (a failed restore: gone)
    finished: list[int] = field(default_factory=list)  # connections out of repair (engine fds, the broker's)
    connects: list[Pending] = field(default_factory=list)  # connect()s in progress, started in restore_done


def _is_conn(isk: sk_inet_pb2.inet_sk_entry) -> bool:
    return isk.state in CONN_STATES or isk.state == TCP_SYN_SENT


def load_images(ctx: RestoreContext) -> None:
    st = ctx.files.state(TcpRestore)
    if st.loaded:
        return
    st.loaded = True
    inv = ctx.images.read_one("inventory")
    st.tcp_close = ctx.opts.tcp_close or inv.tcp_close
    st.lock_method = inv.network_lock_method if inv.HasField("network_lock_method") else 1
    for e in ctx.files.entries:
        if not e.HasField("isk") or e.isk.type != socket.SOCK_STREAM or not _is_conn(e.isk) or st.tcp_close:
            continue
        isk = e.isk
        entries = ctx.images.read_entries("tcp-stream", ino=isk.ino)
        if len(entries) != 1:
            raise RestoreError(f"{ctx.images.path('tcp-stream', ino=isk.ino)}: {len(entries)} entries, not 1")
        st.streams[isk.ino] = (entries[0].message, bytes(entries[0].extra or b""))
        if isk.stasis.lock_table:
            st.image_tables.add(isk.stasis.lock_table)


def _relock(ctx: RestoreContext, st: TcpRestore, isk: sk_inet_pb2.inet_sk_entry) -> None:
    """Before the first socket a lock guards is made: the dump's table, or the same one again where it is
    gone (after a reboot, on another host), with every connection it guards."""
    table = isk.stasis.lock_table
    if not table or table in st.tables or ctx.opts.network_lock == "skip" \
            or st.lock_method != LOCK_METHODS["nftables"]:
        return
    conns = []
    for e in ctx.files.entries:
        if e.HasField("isk") and e.isk.stasis.lock_table == table:
            src, dst = inet.entry_to_sockaddr(e.isk), inet.entry_to_sockaddr(e.isk, src=False)
            conns.append(netlock.Conn(e.isk.family, src[0], src[1], dst[0], dst[1]))
    st.tables.add(table)  # from here on a failed restore removes it
    try:
        netlock.lock(table, conns)
    except OSError as exc:
        raise RestoreError(f"network lock {table}: {exc.strerror}") from exc


def _set(sk: socket.socket, level: int, opt: int, value: int | bytes, what: str) -> None:
    try:
        sk.setsockopt(level, opt, value)
    except OSError as exc:
        raise RestoreError(f"{what}: {exc.strerror}") from exc


def restore_tcp_opts(sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry) -> None:
    to = isk.tcp_opts
    if isk.HasField("tcp_opts"):
        for name, opt in (("nodelay", socket.TCP_NODELAY), ("cork", socket.TCP_CORK),
                          ("keepcnt", socket.TCP_KEEPCNT), ("keepidle", socket.TCP_KEEPIDLE),
                          ("keepintvl", socket.TCP_KEEPINTVL)):
            if to.HasField(name) and _get(sk, opt) != int(getattr(to, name)):
                _set(sk, SOL_TCP, opt, int(getattr(to, name)), f"TCP option {name}")
    x = isk.stasis
    if x.congestion:
        have = sk.getsockopt(SOL_TCP, TCP_CONGESTION, 16).split(b"\0", 1)[0].decode()
        if have != x.congestion:
            _set(sk, SOL_TCP, TCP_CONGESTION, x.congestion.encode(), "TCP_CONGESTION")
    for name, opt in (*_EXT_TCP_OPTS, ("maxseg", socket.TCP_MAXSEG), ("window_clamp", TCP_WINDOW_CLAMP),
                      ("fastopen", TCP_FASTOPEN)):
        if x.HasField(name) and _get(sk, opt) != int(getattr(x, name)):
            _set(sk, SOL_TCP, opt, int(getattr(x, name)), f"TCP option {name}")


def _common_before_bind(sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry) -> None:
    inet.restore_v6only(sk, isk)
    inet.restore_ip_opts(sk, isk)
    if isk.opts.so_bound_dev:
        _set(sk, socket.SOL_SOCKET, socket.SO_BINDTODEVICE, isk.opts.so_bound_dev.encode(), "SO_BINDTODEVICE")
    if isk.opts.so_reuseport:
        _set(sk, socket.SOL_SOCKET, socket.SO_REUSEPORT, 1, "SO_REUSEPORT")


def open_(ctx: RestoreContext, isk: sk_inet_pb2.inet_sk_entry) -> int:
    st = ctx.files.state(TcpRestore)
    what = f"TCP socket {isk.id} ({_state_name(isk.state)})"
    sk = inet.new_inet_socket(isk, what)
    try:
        if _is_conn(isk) and not st.tcp_close:
            stream, data = st.streams.get(isk.ino, (None, b""))
            if stream is None:
                raise RestoreError(f"{what}: no tcp-stream image for socket {isk.ino:#x}")
            _relock(ctx, st, isk)
            _common_before_bind(sk, isk)
            if isk.state == TCP_SYN_SENT:
                tcp_repair.restore_syn_sent(sk, isk, stream, what)
                sockets.restore_opts(sk, isk.opts, skip=("reuseaddr",))
                restore_tcp_opts(sk, isk)
                st.connects.append(Pending(sk.fileno(), isk, stream, b""))
            else:
                tail = tcp_repair.restore_stream(sk, isk, stream, data, what)
                st.pending.append(Pending(sk.fileno(), isk, stream, tail))
        elif _is_conn(isk):
            _open_closed_conn(sk, isk, what)
        elif isk.state == TCP_LISTEN:
            sockets.restore_opts(sk, isk.opts, skip=("reuseaddr",))
            _common_before_bind(sk, isk)
            _set(sk, socket.SOL_SOCKET, socket.SO_REUSEADDR, 1, "SO_REUSEADDR")  # ports shared with conns
            inet.bind_inet(sk, isk, what)
            try:
                sk.listen(isk.backlog)
            except OSError as exc:
                raise RestoreError(f"{what}: listen({isk.backlog}): {exc.strerror}") from exc
            _set(sk, socket.SOL_SOCKET, socket.SO_REUSEADDR, int(isk.opts.reuseaddr), "SO_REUSEADDR")
            restore_tcp_opts(sk, isk)
        elif isk.state == TCP_CLOSE:
            sockets.restore_opts(sk, isk.opts, skip=("reuseaddr",))
            _common_before_bind(sk, isk)
            if inet.is_bound(isk):
                _set(sk, socket.SOL_SOCKET, socket.SO_REUSEADDR, 1, "SO_REUSEADDR")
                _bind_closed(sk, isk, what)
            _set(sk, socket.SOL_SOCKET, socket.SO_REUSEADDR, int(isk.opts.reuseaddr), "SO_REUSEADDR")
            if isk.HasField("shutdown") and isk.shutdown:
                _shut(sk, socket.SHUT_RDWR, what)
            restore_tcp_opts(sk, isk)
        else:
            raise RestoreError(f"{what}: this state cannot be restored")
        inet.set_file_flags(sk.fileno(), isk.flags)
    except BaseException:
        sk.close()
        raise
    return sk.detach()


def _bind_closed(sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry, what: str, force: bool = False) -> None:
    """A closed socket keeps the port it had, even one a listener holds now (a connection closed with
    --tcp-close, or a socket whose connection ended): bound in repair mode, which ignores the conflict."""
    if not force:
        try:
            inet.bind_inet(sk, isk, what)
            return
        except RestoreError as exc:
            if not isinstance(exc.__cause__, OSError) or exc.__cause__.errno != errno.EADDRINUSE:
                raise
    _set(sk, SOL_TCP, TCP_REPAIR, 1, "TCP_REPAIR")
    inet.bind_inet(sk, isk, what)
    _set(sk, SOL_TCP, TCP_REPAIR, 0, "TCP_REPAIR off")


def _shut(sk: socket.socket, how: int, what: str) -> None:
    """shutdown() of a socket that is not connected: the kernel marks it and says ENOTCONN."""
    try:
        sk.shutdown(how)
    except OSError as exc:
        if exc.errno != errno.ENOTCONN:
            raise RestoreError(f"{what}: shutdown: {exc.strerror}") from exc


def _open_closed_conn(sk: socket.socket, isk: sk_inet_pb2.inet_sk_entry, what: str) -> None:
    """--tcp-close: bound where it was (in repair mode: the port may be a listener's), then shut down both
    ways, so reads see end-of-file and writes EPIPE, as criu restores it."""
    sockets.restore_opts(sk, isk.opts, skip=("reuseaddr",))
    _common_before_bind(sk, isk)
    _bind_closed(sk, isk, what, force=True)
    _shut(sk, socket.SHUT_RDWR, what)
    _set(sk, socket.SOL_SOCKET, socket.SO_REUSEADDR, int(isk.opts.reuseaddr), "SO_REUSEADDR")
    restore_tcp_opts(sk, isk)


def restore_done(ctx: RestoreContext) -> None:
    """Every socket exists: unlock, then repair off everywhere, then each connection's last steps (options
    before the tail: TCP_CORK holds it as it held it; our FIN after the tail)."""
    st = ctx.files.state(TcpRestore)
    for table in sorted(st.tables):
        try:
            netlock.unlock(table)
        except OSError as exc:
            raise RestoreError(f"network unlock {table}: {exc.strerror}") from exc
    st.tables.clear()
    for p in st.pending:
        sk = socket.socket(fileno=p.fd)
        try:
            tcp_repair.leave_repair(sk, f"TCP socket {p.isk.id}")
        finally:
            sk.detach()
    for p in st.pending:
        sk = socket.socket(fileno=p.fd)
        what = f"TCP socket {p.isk.id} ({_state_name(p.isk.state)})"
        try:
            if p.isk.state in PEER_FIN_STATES and not p.isk.stasis.peer_in_tree:
                _peer_fin(sk, p, what)
            restore_tcp_opts(sk, p.isk)
            tcp_repair.finish(sk, p.isk, p.tail, what)
            sockets.restore_opts(sk, p.isk.opts)
        finally:
            sk.detach()
        st.finished.append(p.fd)
    st.pending.clear()
    for p in st.connects:
        sk = socket.socket(fileno=p.fd)
        try:
            tcp_repair.start_connect(sk, p.isk, f"TCP socket {p.isk.id} (SYN_SENT)")
            _set(sk, socket.SOL_SOCKET, socket.SO_REUSEADDR, int(p.isk.opts.reuseaddr), "SO_REUSEADDR")
            inet.set_file_flags(p.fd, p.isk.flags)
        finally:
            sk.detach()
    st.connects.clear()


def _peer_fin(sk: socket.socket, p: Pending, what: str) -> None:
    """The FIN of a peer that is not restored with us, made again; until the socket has taken it."""
    import time

    tcp_repair.peer_fin(sk, p.isk, p.stream, what)
    deadline = time.monotonic() + 2.0
    while tcp_repair.tcp_info(sk).state == TCP_ESTABLISHED:
        if time.monotonic() > deadline:
            raise RestoreError(f"{what}: the peer's FIN made again was not taken")
        time.sleep(0.001)


def restore_abort(ctx: RestoreContext) -> None:
    """A failed restore: the lock goes (the sockets it guarded are gone with the killed tree), whether
    this restore had made it again yet or not."""
    st = ctx.files.state(TcpRestore)
    first: OSError | None = None
    for fd in [p.fd for p in st.pending] + st.finished:
        # repair on again before the broker closes the last reference: closed silently (no FIN, no RST),
        # so the peer waits for the next restore of the same images
        sk = socket.socket(fileno=fd)
        try:
            sk.setsockopt(SOL_TCP, TCP_REPAIR, 1)
        except OSError as exc:
            log.warning("tcp: a restored connection could not go back to repair mode: %s", exc)
        finally:
            sk.detach()
    st.finished.clear()
    if ctx.opts.network_lock != "skip":
        st.tables |= st.image_tables
    for table in sorted(st.tables):
        try:
            netlock.unlock(table)
        except OSError as exc:
            first = first or exc
    st.tables.clear()
    st.pending.clear()
    if first is not None:
        raise first


OBJECT = KernelObject("tcp", dump_tree=dump_tree, dump_done=dump_done, restore_done=restore_done,
                      restore_abort=restore_abort)
