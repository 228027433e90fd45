"""Network namespaces: the links, addresses, routes, sysctls and firewall of a tree's own network namespace
(CRIU's images: netns-<id>.img, netdev-<id>.img).

Dump (namespaces.dump_tree calls `dump`): a worker (engine/objects/nsworker.py) joins the namespace and reads
it; what restore cannot rebuild is refused, naming the device, address or route.

Restore (namespaces.restore_root calls `restore`): the root helper was created in a new network namespace;
a worker joins it and rebuilds the namespace, then sockets of the tree are made there.
"""

from __future__ import annotations

import os
import socket
import struct
from typing import TYPE_CHECKING, Any

from engine.abi.consts import CLONE_NEWNET, O_CLOEXEC, O_RDONLY
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import netdev_pb2, sysctl_pb2
from engine.objects import nsworker
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext
    from engine.images.imagedir import ImageDir
    from engine.task import Task

# network namespace sysctls CRIU's netns_entry has no list for, kept in its Stasis extension
NET_SYSCTLS = ("ipv4/ip_default_ttl", "ipv4/ip_forward", "ipv4/ip_local_port_range", "ipv4/ping_group_range",
               "ipv4/ip_unprivileged_port_start", "ipv4/tcp_syncookies", "core/somaxconn",
               "ipv4/conf/all/forwarding", "ipv4/conf/default/forwarding", "ipv6/conf/all/disable_ipv6",
               "ipv6/conf/default/disable_ipv6")
UNIX_SYSCTLS = ("unix/max_dgram_qlen",)

SIOCGIFFLAGS, SIOCSIFFLAGS, SIOCGIFMTU, SIOCSIFMTU, SIOCGIFINDEX = 0x8913, 0x8914, 0x8921, 0x8922, 0x8933
IFF_UP = 0x1
IFREQ = struct.Struct("16sh22x")  # struct ifreq with a short (flags) or int (mtu, index) union
IFREQ_INT = struct.Struct("16si20x")
RTM_GETADDR, NLM_F_REQUEST, NLM_F_DUMP, NLMSG_DONE, NLMSG_ERROR = 22, 1, 0x300, 3, 2
IFA_ADDRESS = 1



@record
class NetDump:
    netns: netdev_pb2.netns_entry
    netdevs: list[netdev_pb2.net_device_entry] = field(default_factory=list)


@record
class NetRestore:
    netns: netdev_pb2.netns_entry
    netdevs: list[netdev_pb2.net_device_entry] = field(default_factory=list)


# -- dump ------------------------------------------------------------------------------------------

def _ifaddrs() -> list[tuple[int, int, int, bytes]]:
    """(family, prefix length, ifindex, address) of every address, by an RTM_GETADDR dump."""
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 0)  # NETLINK_ROUTE
    try:
        req = struct.pack("=IHHII", 16 + 8, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
        nl.send(req + struct.pack("=BBBBI", 0, 0, 0, 0, 0))
        out: list[tuple[int, int, int, bytes]] = []
        while True:
            data = nl.recv(1 << 16)
            off = 0
            while off + 16 <= len(data):
                ln, typ = struct.unpack_from("=IH", data, off)
                if typ == NLMSG_DONE:
                    return out
                if typ == NLMSG_ERROR:
                    raise OSError(-struct.unpack_from("=i", data, off + 16)[0], "RTM_GETADDR")
                fam, plen, _, _, idx = struct.unpack_from("=BBBBI", data, off + 16)
                a = off + 24
                addr = b""
                while a + 4 <= off + ln:
                    alen, atyp = struct.unpack_from("=HH", data, a)
                    if alen < 4:
                        break
                    if atyp == IFA_ADDRESS:
                        addr = data[a + 4:a + alen]
                    a += (alen + 3) & ~3
                out.append((fam, plen, idx, addr))
                off += (ln + 3) & ~3
    finally:
        nl.close()


def dump(ctx: DumpContext, nsfd: int, root: Task) -> NetDump:
    """The tree's network namespace (nsfd), read by a worker inside it."""
    def read() -> dict[str, Any]:
        links = []
        sk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        try:
            import fcntl

            for idx, name in socket.if_nameindex():
                req = IFREQ.pack(name.encode(), 0)
                flags = IFREQ.unpack(fcntl.ioctl(sk, SIOCGIFFLAGS, req))[1] & 0xFFFF
                mtu = IFREQ_INT.unpack(fcntl.ioctl(sk, SIOCGIFMTU, IFREQ_INT.pack(name.encode(), 0)))[1]
                links.append([idx, name, flags, mtu])
        finally:
            sk.close()
        routes = (nsworker.read_text("/proc/self/net/route") or "").splitlines()[1:]
        routes6 = [r for r in (nsworker.read_text("/proc/self/net/ipv6_route") or "").splitlines()
                   if not r.split()[-1].startswith("lo") and r.split()[-1] != "lo"]
        sysctls = {n: nsworker.read_text(f"/proc/sys/net/{n}") for n in (*UNIX_SYSCTLS, *NET_SYSCTLS)}
        addrs = [[f, p, i, a.hex()] for f, p, i, a in _ifaddrs()]
        return {"links": links, "routes": routes, "routes6": routes6, "sysctls": sysctls, "addrs": addrs}

    got = nsworker.run([(nsfd, CLONE_NEWNET)], read, f"pid {root.pid}: network namespace")
    where = f"pid {root.pid}: its network namespace"
    devs = []
    lo_up = False
    for idx, name, flags, mtu in got["links"]:
        if name != "lo":
            raise UnsupportedError(f"{where} has network device {name}: only lo is supported yet")
        lo_up = bool(flags & IFF_UP)
        devs.append(netdev_pb2.net_device_entry(type=netdev_pb2.LOOPBACK, ifindex=idx, mtu=mtu, flags=flags,
                                                name=name))
    lo = {(socket.AF_INET, 8, "7f000001"), (socket.AF_INET6, 128, "00000000000000000000000000000001")}
    for fam, plen, _, addr in got["addrs"]:
        if not lo_up or (fam, plen, addr) not in lo:
            try:
                shown = socket.inet_ntop(fam, bytes.fromhex(addr))
            except (OSError, ValueError):
                shown = f"{addr} (family {fam})"
            raise UnsupportedError(f"{where} has address {shown}/{plen}: addresses other than lo's own "
                                   "are not supported yet")
    if got["routes"] or got["routes6"]:
        raise UnsupportedError(f"{where} has routes of its own: routes are not supported yet")
    ns = netdev_pb2.netns_entry()
    for n in UNIX_SYSCTLS:
        text = got["sysctls"][n]
        if text is not None:
            ns.unix_conf.add(type=sysctl_pb2.CTL_32, iarg=int(text))
    for n in NET_SYSCTLS:
        text = got["sysctls"][n]
        if text is not None:
            ns.stasis.names.append(n)
            ns.stasis.values.append(text.strip())
    return NetDump(ns, devs)


def write_images(images: ImageDir, net: NetDump, ns_id: int) -> None:
    images.write("netns", net.netns, ns_id=ns_id)
    images.write("netdev", net.netdevs, ns_id=ns_id)


# -- restore ---------------------------------------------------------------------------------------

def load_images(images: ImageDir, ns_id: int) -> NetRestore:
    net = NetRestore(images.read_one("netns", ns_id=ns_id),
                     images.read("netdev", missing_ok=True, ns_id=ns_id))
    for d in net.netdevs:
        if d.type != netdev_pb2.LOOPBACK:
            raise RestoreError(f"network device {d.name} (type {d.type}): only lo is supported yet")
    return net


def restore(ctx: RestoreContext, root: Task, net: NetRestore) -> None:
    """In the root helper's new network namespace: sysctls, links; then sockets are made there."""
    ns, devs = net.netns, net.netdevs
    values = [(n, str(c.iarg)) for n, c in zip(UNIX_SYSCTLS, ns.unix_conf, strict=False)]
    values += list(zip(ns.stasis.names, ns.stasis.values, strict=True))
    links = [(d.name, d.flags, d.mtu) for d in devs]

    def configure() -> None:
        import fcntl

        sk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        try:
            for name, flags, mtu in links:
                now_mtu = IFREQ_INT.unpack(fcntl.ioctl(sk, SIOCGIFMTU, IFREQ_INT.pack(name.encode(), 0)))[1]
                if now_mtu != mtu:
                    fcntl.ioctl(sk, SIOCSIFMTU, IFREQ_INT.pack(name.encode(), mtu))
                if flags & IFF_UP:
                    fcntl.ioctl(sk, SIOCSIFFLAGS, IFREQ.pack(name.encode(), flags & 0xFFFF))
        finally:
            sk.close()
        for n, text in values:
            full = f"/proc/sys/net/{n}"
            if not os.path.exists(full):
                continue
            now = nsworker.read_text(full) or ""
            if " ".join(now.split()) != " ".join(text.split()):
                nsworker.write_text(full, text)

    fd = os.open(f"/proc/{root.pid}/ns/net", O_RDONLY | O_CLOEXEC)
    try:
        nsworker.run([(fd, CLONE_NEWNET)], configure, f"pid {root.pid}: network namespace")
    except OSError as exc:
        raise RestoreError(str(exc)) from exc
    finally:
        os.close(fd)
    from engine.objects.files import sockets

    sockets.set_restore_netns(os.open(f"/proc/{root.pid}/ns/net", O_RDONLY | O_CLOEXEC))


def restore_done(ctx: RestoreContext) -> None:
    from engine.objects.files import sockets

    sockets.set_restore_netns(None)
