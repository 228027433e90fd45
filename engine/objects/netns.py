"""Network namespaces: the links, addresses, routes, neighbours, sysctls and nftables ruleset of a tree's own
network namespace, in CRIU's images: netns-<id>.img (namespace sysctls, the all/default device sysctls),
netdev-<id>.img (one net_device_entry per link with its conf4/conf6 sysctls in CRIU's name order),
ifaddr-<id>.img, route-<id>.img and route6-<id>.img (what `ip addr save`, `ip route save` and `ip -6 route
save` write: a magic, then the kernel's RTM_NEWADDR / RTM_NEWROUTE messages of the main table; iproute2's
`restore` reads them), nftables-<id>.img (`nft list ruleset` text, without the tables of Stasis's network
lock). What CRIU's entries have no field for is in their Stasis extensions (txqueuelen, alias, a bridge's
and a bridge port's settings, a macvlan's lower link, an external veth peer, dummy/ifb kinds, static
neighbours).

Dump (namespaces.dump_tree calls `dump`): a worker (engine/objects/nsworker.py) joins the namespace and reads
it over rtnetlink (engine/objects/rtnl.py), /proc/sys/net and `nft`. Links: lo; veth pairs with both ends
inside; a veth whose peer is outside, when named with `--external veth[NAME]`; bridges (a few settings, and
their ports' cost, priority, hairpin, learning, flooding...); macvlan over a link of the namespace; dummy and
ifb; persistent tun/tap devices without a file attached (vnet header size and sndbuf read by attaching for a
moment). Each with its ifindex, name, MTU, MAC address, admin flags, txqueuelen, alias and master. Refused,
naming what: other kinds of devices (ipvlan, vxlan, bonds, ...), ports of other masters, an XDP program, a
device group, routes of other tables or added to the local table, routes through nexthop objects, policy
rules other than the defaults, iptables tables, an nftables ruleset without `nft` or one nft cannot read back.
Not kept (as CRIU): tc qdiscs and filters, bridge FDB and VLANs, ethtool settings, conntrack, xfrm.

Restore (namespaces.restore_root calls `restore`): the root helper was created in a new network namespace; a
worker joins it and rebuilds, in order: namespace sysctls, links at their ifindexes (RTM_NEWLINK with
ifi_index; a veth pair in one request, an external peer in the engine's namespace under the name given with
`--external veth[NAME]:OUTNAME`), masters and ports' settings, MTUs, per-device sysctls (accept_dad held at 0
so that the addresses given back are not tentative again), admin flags, a wait for the links that ran to run
again (the kernel adds link-local addresses then), addresses, routes (the saved messages replayed with
NLM_F_CREATE|NLM_F_EXCL: what the kernel made again by itself is EEXIST; without the nexthop state flags it
refuses), addresses the kernel made that the namespace did not have removed, static neighbours, the nftables
ruleset, then accept_dad, the IPv6 MTU and accept_redirects. Sockets of the tree are made in that namespace
afterwards (sockets.set_restore_netns).
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import socket
import struct
import subprocess
import time
from typing import TYPE_CHECKING, Any

from engine.abi import nr
from engine.abi.consts import (
    ARPHRD_LOOPBACK,
    CLONE_NEWNET,
    FRA_PRIORITY,
    FRA_TABLE,
    IF_READY,
    IFA_ADDRESS,
    IFA_LOCAL,
    IFF_ALLMULTI,
    IFF_DEBUG,
    IFF_MULTI_QUEUE,
    IFF_MULTICAST,
    IFF_NO_PI,
    IFF_NOARP,
    IFF_PERSIST,
    IFF_PROMISC,
    IFF_RUNNING,
    IFF_TAP,
    IFF_TUN,
    IFF_UP,
    IFF_VNET_HDR,
    IFLA_ADDRESS,
    IFLA_AF_SPEC,
    IFLA_BR_AGEING_TIME,
    IFLA_BR_FORWARD_DELAY,
    IFLA_BR_HELLO_TIME,
    IFLA_BR_MAX_AGE,
    IFLA_BR_PRIORITY,
    IFLA_BR_STP_STATE,
    IFLA_BR_VLAN_FILTERING,
    IFLA_BRPORT_BCAST_FLOOD,
    IFLA_BRPORT_COST,
    IFLA_BRPORT_FAST_LEAVE,
    IFLA_BRPORT_GUARD,
    IFLA_BRPORT_ISOLATED,
    IFLA_BRPORT_LEARNING,
    IFLA_BRPORT_MCAST_FLOOD,
    IFLA_BRPORT_MODE,
    IFLA_BRPORT_NEIGH_SUPPRESS,
    IFLA_BRPORT_PRIORITY,
    IFLA_BRPORT_PROTECT,
    IFLA_BRPORT_PROXYARP,
    IFLA_BRPORT_UNICAST_FLOOD,
    IFLA_GROUP,
    IFLA_IFALIAS,
    IFLA_IFNAME,
    IFLA_INET6_FLAGS,
    IFLA_INFO_DATA,
    IFLA_INFO_KIND,
    IFLA_INFO_SLAVE_DATA,
    IFLA_INFO_SLAVE_KIND,
    IFLA_LINK,
    IFLA_LINK_NETNSID,
    IFLA_LINKINFO,
    IFLA_MACVLAN_FLAGS,
    IFLA_MACVLAN_MODE,
    IFLA_MASTER,
    IFLA_MTU,
    IFLA_NET_NS_FD,
    IFLA_TUN_GROUP,
    IFLA_TUN_MULTI_QUEUE,
    IFLA_TUN_NUM_QUEUES,
    IFLA_TUN_OWNER,
    IFLA_TUN_PERSIST,
    IFLA_TUN_PI,
    IFLA_TUN_TYPE,
    IFLA_TUN_VNET_HDR,
    IFLA_TXQLEN,
    IFLA_XDP,
    IFLA_XDP_ATTACHED,
    MACVLAN_MODE_SOURCE,
    NETLINK_NETFILTER,
    NFNL_SUBSYS_NFTABLES,
    NFT_MSG_GETTABLE,
    NLM_F_CREATE,
    NLM_F_EXCL,
    NUD_PERMANENT,
    O_CLOEXEC,
    O_RDONLY,
    RT_TABLE_DEFAULT,
    RT_TABLE_LOCAL,
    RT_TABLE_MAIN,
    RTA_DST,
    RTA_GATEWAY,
    RTA_MULTIPATH,
    RTA_NH_ID,
    RTA_OIF,
    RTA_TABLE,
    RTM_DELADDR,
    RTM_F_CLONED,
    RTM_GETADDR,
    RTM_GETLINK,
    RTM_GETNEIGH,
    RTM_GETROUTE,
    RTM_GETRULE,
    RTM_NEWADDR,
    RTM_NEWLINK,
    RTM_NEWNEIGH,
    RTM_NEWROUTE,
    RTM_SETLINK,
    RTNH_F_ONLINK,
    RTNH_F_PERVASIVE,
    RTPROT_KERNEL,
    TUNGETSNDBUF,
    TUNGETVNETHDRSZ,
    TUNSETGROUP,
    TUNSETIFF,
    TUNSETIFINDEX,
    TUNSETOWNER,
    TUNSETPERSIST,
    TUNSETSNDBUF,
    TUNSETVNETHDRSZ,
    VETH_INFO_PEER,
)
from engine.errors import RestoreError, UnsupportedError
from engine.images.pb import netdev_pb2, sysctl_pb2
from engine.log import log
from engine.native import lib
from engine.objects import nsworker, rtnl
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

# per-device sysctls, in the order of CRIU's devconfs4/devconfs6 (conf4/conf6 are lists without names)
DEVCONFS4 = (
    "accept_local", "accept_redirects", "accept_source_route", "arp_accept", "arp_announce", "arp_filter",
    "arp_ignore", "arp_notify", "bootp_relay", "disable_policy", "disable_xfrm", "force_igmp_version",
    "forwarding", "igmpv2_unsolicited_report_interval", "igmpv3_unsolicited_report_interval", "log_martians",
    "medium_id", "promote_secondaries", "proxy_arp", "proxy_arp_pvlan", "route_localnet", "rp_filter",
    "secure_redirects", "send_redirects", "shared_media", "src_valid_mark", "tag",
    "ignore_routes_with_linkdown", "drop_gratuitous_arp", "drop_unicast_in_l2_multicast",
)
DEVCONFS6 = (
    "accept_dad", "accept_ra", "accept_ra_defrtr", "accept_ra_from_local", "accept_ra_min_hop_limit",
    "accept_ra_mtu", "accept_ra_pinfo", "accept_ra_rt_info_max_plen", "accept_ra_rtr_pref",
    "accept_redirects",
    "accept_source_route", "autoconf", "dad_transmits", "disable_ipv6", "drop_unicast_in_l2_multicast",
    "drop_unsolicited_na", "force_mld_version", "force_tllao", "forwarding", "hop_limit",
    "ignore_routes_with_linkdown", "keep_addr_on_down", "max_addresses", "max_desync_factor",
    "mldv1_unsolicited_report_interval", "mldv2_unsolicited_report_interval", "mtu", "ndisc_notify",
    "optimistic_dad", "proxy_ndp", "regen_max_retry", "router_probe_interval", "router_solicitation_delay",
    "router_solicitation_interval", "router_solicitations", "stable_secret", "suppress_frag_ndisc",
    "temp_prefered_lft", "temp_valid_lft", "use_oif_addrs_only", "use_optimistic", "use_tempaddr",
)
# written after the addresses (accept_redirects after forwarding, which resets it; the IPv6 MTU after the link
# is up, which resets it)
LATE_CONFS = ("accept_dad", "mtu", "accept_redirects")

IFADDR_MAGIC, ROUTE_MAGIC = 0x47361222, 0x45311224  # iproute2's `ip addr save` / `ip route save`
# the IFF_* bits a request can set
SETTABLE_FLAGS = IFF_UP | IFF_DEBUG | IFF_NOARP | IFF_PROMISC | IFF_ALLMULTI | IFF_MULTICAST
# fallback tunnel devices the kernel makes in every namespace where their module is loaded
FALLBACK = {"gre0", "gretap0", "erspan0", "tunl0", "sit0", "ip6tnl0", "ip6gre0", "ip_vti0", "ip6_vti0"}
# a bridge's settings and a bridge port's that are given back
BRIDGE_KEEP = (IFLA_BR_FORWARD_DELAY, IFLA_BR_HELLO_TIME, IFLA_BR_MAX_AGE, IFLA_BR_AGEING_TIME,
               IFLA_BR_STP_STATE, IFLA_BR_PRIORITY, IFLA_BR_VLAN_FILTERING)
BRPORT_KEEP = (IFLA_BRPORT_PRIORITY, IFLA_BRPORT_COST, IFLA_BRPORT_MODE, IFLA_BRPORT_GUARD,
               IFLA_BRPORT_PROTECT, IFLA_BRPORT_FAST_LEAVE, IFLA_BRPORT_LEARNING, IFLA_BRPORT_UNICAST_FLOOD,
               IFLA_BRPORT_PROXYARP, IFLA_BRPORT_MCAST_FLOOD, IFLA_BRPORT_BCAST_FLOOD,
               IFLA_BRPORT_NEIGH_SUPPRESS, IFLA_BRPORT_ISOLATED)
SIMPLE_KINDS = ("dummy", "ifb")  # kinds made with no IFLA_INFO_DATA, nothing to keep but the link's own
DEFAULT_RULES = {(socket.AF_INET, 0, RT_TABLE_LOCAL), (socket.AF_INET, 32766, RT_TABLE_MAIN),
                 (socket.AF_INET, 32767, RT_TABLE_DEFAULT), (socket.AF_INET6, 0, RT_TABLE_LOCAL),
                 (socket.AF_INET6, 32766, RT_TABLE_MAIN)}
NLMSG_HDR = rtnl.NLMSG.size
NFT_TIMEOUT = 30.0
CARRIER_WAIT = 3.0  # seconds for the links that ran at the dump to run again
EXTERNAL_WAIT = 3.0  # seconds for an external veth peer's name to be free
ROUTE_REQUEST_FLAGS = RTNH_F_PERVASIVE | RTNH_F_ONLINK


@record
class NetDump:
    netns: netdev_pb2.netns_entry
    netdevs: list[netdev_pb2.net_device_entry] = field(default_factory=list)
    ifaddr: bytes = b""
    route: bytes = b""
    route6: bytes = b""
    nft: str | None = None


@record
class NetRestore:
    netns: netdev_pb2.netns_entry
    netdevs: list[netdev_pb2.net_device_entry] = field(default_factory=list)
    addrs: list[bytes] = field(default_factory=list)  # RTM_NEWADDR messages
    routes: list[bytes] = field(default_factory=list)  # RTM_NEWROUTE messages, IPv4 then IPv6
    neigh: list[bytes] = field(default_factory=list)
    nft: str | None = None


# -- dump ------------------------------------------------------------------------------------------

def _read_conf(family: str, dev: str, names: tuple[str, ...]) -> list[str | None]:
    out: list[str | None] = []
    for n in names:
        try:
            out.append(nsworker.read_text(f"/proc/sys/net/{family}/conf/{dev}/{n}"))
        except OSError:  # stable_secret unset: EIO
            out.append(None)
    return out


def _nft_read() -> dict[str, Any]:
    """The ruleset as `nft list ruleset` prints it, without the tables of Stasis's own network lock."""
    nft = shutil.which("nft")
    if nft is None:  # are there tables at all? (nfnetlink, without the tool)
        try:
            with rtnl.Rtnl(NETLINK_NETFILTER) as nl:
                tables = nl.dump((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE, struct.pack("=BBH", 0, 0, 0))
        except OSError:
            tables = []
        return {"text": None, "tables": len(tables)}

    def run(*args: str) -> str:
        r = subprocess.run([nft, *args], capture_output=True, text=True, timeout=NFT_TIMEOUT)
        if r.returncode:
            raise OSError(errno.EPERM, f"nft {' '.join(args)}: {r.stderr.strip()}")
        return r.stdout

    lines = [ln.split() for ln in run("list", "tables").splitlines() if ln.startswith("table ")]
    mine = [w for w in lines if len(w) == 3 and not w[2].startswith("stasis-")]
    if len(mine) == len(lines):
        text = run("list", "ruleset")
    else:
        text = "".join(run("list", "table", w[1], w[2]) for w in mine)
    bad = None
    if text.strip():  # what nft prints it must read back (iptables-nft's xt expressions it cannot)
        r = subprocess.run([nft, "-c", "-f", "-"], input="flush ruleset\n" + text, capture_output=True,
                           text=True, timeout=NFT_TIMEOUT)
        if r.returncode:
            bad = r.stderr.strip().splitlines()[0] if r.stderr.strip() else f"exit {r.returncode}"
    return {"text": text, "tables": len(mine), "unreadable": bad}


def _read_ns() -> dict[str, Any]:
    """In the namespace: everything as raw messages and texts (parsed by the engine)."""
    with rtnl.Rtnl() as nl:
        links = nl.dump(RTM_GETLINK, rtnl.IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0))
        addrs = nl.dump(RTM_GETADDR, rtnl.IFADDR.pack(socket.AF_UNSPEC, 0, 0, 0, 0))
        routes4 = nl.dump(RTM_GETROUTE, rtnl.RTMSG.pack(socket.AF_INET, 0, 0, 0, 0, 0, 0, 0, 0))
        routes6 = nl.dump(RTM_GETROUTE, rtnl.RTMSG.pack(socket.AF_INET6, 0, 0, 0, 0, 0, 0, 0, 0))
        rules = []
        for fam in (socket.AF_INET, socket.AF_INET6):
            try:
                rules += nl.dump(RTM_GETRULE, rtnl.FIBRULE.pack(fam, 0, 0, 0, 0, 0, 0, 0, 0))
            except OSError:
                pass  # a kernel without policy routing for the family
        neigh = []
        for fam in (socket.AF_INET, socket.AF_INET6):
            neigh += nl.dump(RTM_GETNEIGH, rtnl.NDMSG.pack(fam, 0, 0, 0, 0))
    names = [rtnl.cstr(rtnl.attrs(m, NLMSG_HDR + rtnl.IFINFO.size).get(IFLA_IFNAME, b"")) for m in links]
    conf = {dev: [_read_conf("ipv4", dev, DEVCONFS4), _read_conf("ipv6", dev, DEVCONFS6)]
            for dev in (*names, "all", "default")}
    sysctls = {n: nsworker.read_text(f"/proc/sys/net/{n}") for n in (*UNIX_SYSCTLS, *NET_SYSCTLS)}
    ipt = {n: (nsworker.read_text(f"/proc/self/net/{n}") or "").split()
           for n in ("ip_tables_names", "ip6_tables_names")}
    tun = {}
    for m, name in zip(links, names, strict=True):
        info = rtnl.attrs(rtnl.attrs(m, NLMSG_HDR + rtnl.IFINFO.size).get(IFLA_LINKINFO, b""))
        if rtnl.cstr(info.get(IFLA_INFO_KIND, b"")) == "tun":
            tun[name] = _tun_params(name, rtnl.attrs(info.get(IFLA_INFO_DATA, b"")))
    hexes = {k: [m.hex() for m in v] for k, v in (("links", links), ("addrs", addrs), ("routes4", routes4),
                                                  ("routes6", routes6), ("rules", rules), ("neigh", neigh))}
    return {**hexes, "conf": conf, "sysctls": sysctls, "nft": _nft_read(), "iptables": ipt, "tun": tun}


IFREQ_FLAGS = struct.Struct("16sH22x")


def _tun_flags(data: dict[int, bytes]) -> int:
    kind = data.get(IFLA_TUN_TYPE, b"\0")[0]
    flags = (IFF_TUN if kind == IFF_TUN else IFF_TAP) | IFF_PERSIST
    if not data.get(IFLA_TUN_PI, b"\0")[0]:
        flags |= IFF_NO_PI
    if data.get(IFLA_TUN_VNET_HDR, b"\0")[0]:
        flags |= IFF_VNET_HDR
    if data.get(IFLA_TUN_MULTI_QUEUE, b"\0")[0]:
        flags |= IFF_MULTI_QUEUE
    return flags


def _tun_params(name: str, data: dict[int, bytes]) -> list[int] | None:
    """vnet header size and sndbuf of a persistent tun/tap device nobody holds: only a file attached to it
    tells them (attached here for the moment of two ioctls)."""
    if not data.get(IFLA_TUN_PERSIST, b"\0")[0] or rtnl.u32(data.get(IFLA_TUN_NUM_QUEUES, b"\0\0\0\0")):
        return None
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.ioctl(fd, TUNSETIFF, IFREQ_FLAGS.pack(name.encode(), _tun_flags(data) & ~IFF_PERSIST & 0xFFFF))
        hdr = struct.unpack("i", fcntl.ioctl(fd, TUNGETVNETHDRSZ, struct.pack("i", 0)))[0]
        sndbuf = struct.unpack("i", fcntl.ioctl(fd, TUNGETSNDBUF, struct.pack("i", 0)))[0]
    finally:
        os.close(fd)
    return [hdr, sndbuf]


def _addr_text(family: int, raw: bytes) -> str:
    try:
        return socket.inet_ntop(family, raw)
    except (OSError, ValueError):
        return raw.hex()


def _route_text(msg: bytes, names: dict[int, str] | None = None) -> str:
    fam, dst_len, _, _, table, proto, _, _, _ = rtnl.RTMSG.unpack_from(msg, NLMSG_HDR)
    a = rtnl.attrs(msg, NLMSG_HDR + rtnl.RTMSG.size)
    dst = f"{_addr_text(fam, a[RTA_DST])}/{dst_len}" if RTA_DST in a else "default"
    out = [dst]
    if RTA_GATEWAY in a:
        out.append(f"via {_addr_text(fam, a[RTA_GATEWAY])}")
    if RTA_OIF in a:
        idx = rtnl.u32(a[RTA_OIF])
        out.append(f"dev {names[idx]}" if names and idx in names else f"dev #{idx}")
    out.append(f"table {rtnl.u32(a[RTA_TABLE]) if RTA_TABLE in a else table} proto {proto}")
    return " ".join(out)


def _confs(values: list[str | None], names: tuple[str, ...]) -> list[sysctl_pb2.sysctl_entry]:
    out = []
    for n, text in zip(names, values, strict=True):
        if n == "stable_secret":
            e = sysctl_pb2.sysctl_entry(type=sysctl_pb2.CTL_STR)
            if text is not None and text.strip():
                e.sarg = text.strip()
        else:
            e = sysctl_pb2.sysctl_entry(type=sysctl_pb2.CTL_32)
            if text is not None and text.strip().lstrip("-").isdigit():
                e.iarg = int(text)
        out.append(e)
    return out


def _device(ctx: DumpContext, where: str, msg: bytes, got: dict[str, Any], ns_id: int,
            names: dict[int, str]) -> netdev_pb2.net_device_entry | None:
    _, typ, idx, flags, _ = rtnl.IFINFO.unpack_from(msg, NLMSG_HDR)
    a = rtnl.attrs(msg, NLMSG_HDR + rtnl.IFINFO.size)
    name = rtnl.cstr(a.get(IFLA_IFNAME, b""))
    info = rtnl.attrs(a.get(IFLA_LINKINFO, b""))
    kind = rtnl.cstr(info.get(IFLA_INFO_KIND, b"")) or None
    data = rtnl.attrs(info.get(IFLA_INFO_DATA, b""))
    dev = f"{where} has network device {name} (ifindex {idx}{f', {kind}' if kind else ''})"
    if name in FALLBACK and typ != ARPHRD_LOOPBACK and not flags & IFF_UP:
        log.debug("%s: the kernel's fallback device, made again by the kernel", dev)
        return None
    xdp = rtnl.attrs(a.get(IFLA_XDP, b""))
    if xdp.get(IFLA_XDP_ATTACHED, b"\0")[0]:
        raise UnsupportedError(f"{dev} with an XDP program attached: not supported")
    if rtnl.u32(a.get(IFLA_GROUP, b"\0\0\0\0")):
        raise UnsupportedError(f"{dev} in device group {rtnl.u32(a[IFLA_GROUP])}: not supported")
    e = netdev_pb2.net_device_entry(ifindex=idx, mtu=rtnl.u32(a[IFLA_MTU]), flags=flags, name=name,
                                    type=netdev_pb2.LOOPBACK)
    if typ == ARPHRD_LOOPBACK:
        pass
    elif kind == "veth":
        e.type = netdev_pb2.VETH
        peer = rtnl.u32(a[IFLA_LINK]) if IFLA_LINK in a else 0
        if IFLA_LINK_NETNSID in a or peer not in names:
            if name not in ctx.opts.ext_veths:
                raise UnsupportedError(f"{dev}: its peer is outside the tree's network namespace; name it "
                                       f"with --external veth[{name}] (and at restore --external "
                                       f"veth[{name}]:NAME for the new peer's name outside)")
            e.stasis.external_peer = True
        else:
            e.peer_ifindex, e.peer_nsid = peer, ns_id
    elif kind == "bridge":
        e.type = netdev_pb2.BRIDGE
        # vlan_filtering only when set: a kernel without VLAN filtering refuses the attribute, even 0
        keep = [k for k in BRIDGE_KEEP if k in data and (k != IFLA_BR_VLAN_FILTERING or any(data[k]))]
        e.stasis.info_data = b"".join(rtnl.attr(k, data[k]) for k in keep)
    elif kind == "macvlan":
        e.type = netdev_pb2.MACVLAN
        lower = rtnl.u32(a[IFLA_LINK]) if IFLA_LINK in a else 0
        if IFLA_LINK_NETNSID in a or lower not in names:
            raise UnsupportedError(f"{dev}: its lower device is outside the tree's network namespace: not "
                                   "supported")
        mode = rtnl.u32(data.get(IFLA_MACVLAN_MODE, b"\0\0\0\0"))
        if mode == MACVLAN_MODE_SOURCE:
            raise UnsupportedError(f"{dev} in source mode: not supported")
        e.macvlan.mode = mode
        if IFLA_MACVLAN_FLAGS in data:
            e.macvlan.flags = struct.unpack("=H", data[IFLA_MACVLAN_FLAGS][:2])[0]
        e.stasis.link = lower
    elif kind in SIMPLE_KINDS:
        e.type = netdev_pb2.EXTLINK  # CRIU's type for links it leaves to plugins; Stasis makes it itself
        e.stasis.kind = kind
    elif kind == "tun":
        e.type = netdev_pb2.TUN
        params = got["tun"].get(name)
        if params is None:
            raise UnsupportedError(f"{dev}: only persistent tun/tap devices without a file attached are "
                                   "supported (tun files are not)")
        owner = rtnl.u32(data[IFLA_TUN_OWNER]) if IFLA_TUN_OWNER in data else -1
        group = rtnl.u32(data[IFLA_TUN_GROUP]) if IFLA_TUN_GROUP in data else -1
        e.tun.CopyFrom(netdev_pb2.tun_link_entry(flags=_tun_flags(data), owner=owner, group=group,
                                                 vnethdr=params[0], sndbuf=params[1]))
    else:
        what = f"of kind {kind}" if kind else f"of link type {typ}"
        raise UnsupportedError(f"{dev}: devices {what} are not supported (lo, veth, bridge, macvlan, "
                               f"{', '.join(SIMPLE_KINDS)} and persistent tun/tap are)")
    if typ != ARPHRD_LOOPBACK and IFLA_ADDRESS in a:
        e.address = a[IFLA_ADDRESS]
    if IFLA_MASTER in a and rtnl.u32(a[IFLA_MASTER]):
        e.master = rtnl.u32(a[IFLA_MASTER])
    slave = rtnl.cstr(info.get(IFLA_INFO_SLAVE_KIND, b""))
    if slave and slave != "bridge":
        raise UnsupportedError(f"{dev}: a port of a {slave} device: not supported")
    if slave == "bridge":  # the port's own settings (cost, priority, hairpin, learning, flooding, ...)
        port = rtnl.attrs(info.get(IFLA_INFO_SLAVE_DATA, b""))
        e.stasis.slave_data = b"".join(rtnl.attr(k, port[k]) for k in BRPORT_KEEP if k in port)
    if IFLA_TXQLEN in a:
        e.stasis.txqlen = rtnl.u32(a[IFLA_TXQLEN])
    if IFLA_IFALIAS in a and rtnl.cstr(a[IFLA_IFALIAS]):
        e.stasis.alias = rtnl.cstr(a[IFLA_IFALIAS])
    v4, v6 = got["conf"][name]
    e.conf4.extend(_confs(v4, DEVCONFS4))
    e.conf6.extend(_confs(v6, DEVCONFS6))
    return e


def dump(ctx: DumpContext, nsfd: int, root: Task) -> NetDump:
    """The tree's network namespace (nsfd), read by a worker inside it; what cannot come back is refused."""
    where = f"pid {root.pid}: its network namespace"
    try:
        got = nsworker.run([(nsfd, CLONE_NEWNET)], _read_ns, f"pid {root.pid}: network namespace")
    except (OSError, RuntimeError) as exc:
        raise UnsupportedError(f"{where} cannot be read: {_plain(exc)}") from exc
    ns_id = root.ids.net_ns_id
    links = [bytes.fromhex(m) for m in got["links"]]
    names = {rtnl.IFINFO.unpack_from(m, NLMSG_HDR)[2]:
             rtnl.cstr(rtnl.attrs(m, NLMSG_HDR + rtnl.IFINFO.size).get(IFLA_IFNAME, b"")) for m in links}
    devs = [d for m in links if (d := _device(ctx, where, m, got, ns_id, names)) is not None]
    kept = {d.ifindex for d in devs}
    for d in devs:
        if d.HasField("master") and d.master not in kept:
            raise UnsupportedError(f"{where}: network device {d.name}'s master #{d.master} is not dumped")
    outside = {d.name for d in devs if d.stasis.external_peer}
    for n in (ext for ext in ctx.opts.ext_veths if ext not in outside):
        log.info("--external veth[%s]: no such veth with a peer outside in the tree's network namespace", n)

    addrs = [bytes.fromhex(m) for m in got["addrs"]]
    for m in addrs:
        fam, plen, _, _, idx = rtnl.IFADDR.unpack_from(m, NLMSG_HDR)
        if idx not in kept:
            a = rtnl.attrs(m, NLMSG_HDR + rtnl.IFADDR.size)
            shown = _addr_text(fam, a.get(IFA_LOCAL, a.get(IFA_ADDRESS, b"")))
            raise UnsupportedError(f"{where} has address {shown}/{plen} on device {names.get(idx, idx)}, "
                                   "which is not dumped")
    routes: dict[str, list[bytes]] = {"routes4": [], "routes6": []}
    for key in routes:
        for m in (bytes.fromhex(x) for x in got[key]):
            _, _, _, _, table, proto, _, _, rflags = rtnl.RTMSG.unpack_from(m, NLMSG_HDR)
            a = rtnl.attrs(m, NLMSG_HDR + rtnl.RTMSG.size)
            table = rtnl.u32(a[RTA_TABLE]) if RTA_TABLE in a else table
            if rflags & RTM_F_CLONED:
                continue
            if table == RT_TABLE_MAIN:
                if RTA_NH_ID in a:
                    raise UnsupportedError(f"{where} has route {_route_text(m, names)} through nexthop "
                                           f"object {rtnl.u32(a[RTA_NH_ID])}: nexthop objects are not "
                                           "restored")
                if RTA_OIF in a and rtnl.u32(a[RTA_OIF]) not in kept:
                    raise UnsupportedError(f"{where} has route {_route_text(m, names)} through a device not "
                                           "dumped")
                routes[key].append(m)
            elif table != RT_TABLE_LOCAL or proto != RTPROT_KERNEL:
                raise UnsupportedError(f"{where} has route {_route_text(m, names)}: only routes of the main "
                                       "table (and the kernel's own local ones) are restored")
    for m in (bytes.fromhex(x) for x in got["rules"]):
        fam, _, _, _, table, _, _, _, _ = rtnl.FIBRULE.unpack_from(m, NLMSG_HDR)
        a = rtnl.attrs(m, NLMSG_HDR + rtnl.FIBRULE.size)
        prio = rtnl.u32(a[FRA_PRIORITY]) if FRA_PRIORITY in a else 0
        table = rtnl.u32(a[FRA_TABLE]) if FRA_TABLE in a else table
        if (fam, prio, table) not in DEFAULT_RULES:
            raise UnsupportedError(f"{where} has policy rule {prio} (lookup table {table}, family {fam}): "
                                   "policy routing rules are not restored")
    neigh = b""
    for m in (bytes.fromhex(x) for x in got["neigh"]):
        fam, idx, state, _, _ = rtnl.NDMSG.unpack_from(m, NLMSG_HDR)
        if state & NUD_PERMANENT and fam in (socket.AF_INET, socket.AF_INET6) and idx in kept:
            neigh += _joined([m])
    for table, found in got["iptables"].items():
        if found:
            raise UnsupportedError(f"{where} has {table[:-6].replace('_', '')} tables ({', '.join(found)}): "
                                   "iptables rules are not restored (nftables are)")
    nft = got["nft"]
    if nft.get("unreadable"):
        raise UnsupportedError(f"{where} has an nftables ruleset that nft cannot read back "
                               f"({nft['unreadable']}): not restorable")
    if nft["text"] is None and nft["tables"]:
        raise UnsupportedError(f"{where} has {nft['tables']} nftables tables but nft (Debian package "
                               "nftables) is not installed to save them")

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
    if neigh:
        ns.stasis.neigh = neigh
    for dev, (f4, f6) in (("all", ("all_conf4", "all_conf6")), ("default", ("def_conf4", "def_conf6"))):
        v4, v6 = got["conf"][dev]
        getattr(ns, f4).extend(_confs(v4, DEVCONFS4))
        getattr(ns, f6).extend(_confs(v6, DEVCONFS6))
    ifaddr = struct.pack("=I", IFADDR_MAGIC) + _joined(addrs)
    log.info("%s: %d links, %d addresses, %d+%d routes, %d static neighbours, nftables %s", where, len(devs),
             len(addrs), len(routes["routes4"]), len(routes["routes6"]), len(rtnl.messages(neigh)),
             f"{nft['tables']} tables" if nft["text"] is not None else "(no nft)")
    return NetDump(ns, devs, ifaddr, struct.pack("=I", ROUTE_MAGIC) + _joined(routes["routes4"]),
                   struct.pack("=I", ROUTE_MAGIC) + _joined(routes["routes6"]), nft["text"])


def _plain(exc: Exception) -> str:
    """An error of the worker without the "[Errno N]" that each OSError on the way put in front."""
    return re.sub(r"\[Errno \d+\] ", "", str(exc))


def _joined(msgs: list[bytes]) -> bytes:
    """Messages back to back, each padded to 4 bytes as in a netlink stream."""
    return b"".join(m + b"\0" * (rtnl.align(len(m)) - len(m)) for m in msgs)


def external(key: str) -> NetDump:
    """criu's external network namespace (--external net[INODE]:KEY): only its key in netns.img."""
    log.info("the tree's network namespace is external (%s): not dumped, given back at restore with "
             "--inherit-fd fd[N]:%s", key, key)
    return NetDump(netdev_pb2.netns_entry(ext_key=key))


def write_images(images: ImageDir, net: NetDump, ns_id: int) -> None:
    images.write("netns", net.netns, ns_id=ns_id)
    images.write("netdev", net.netdevs, ns_id=ns_id)
    for kind, blob in (("ifaddr", net.ifaddr), ("route", net.route), ("route6", net.route6)):
        with images.open_raw(kind, "wb", ns_id=ns_id) as f:
            f.write(blob)
    if net.nft is not None:
        with images.open_raw("nftables", "wb", ns_id=ns_id) as f:
            f.write(net.nft.encode())


# -- restore ---------------------------------------------------------------------------------------

def _saved(images: ImageDir, kind: str, magic: int, ns_id: int) -> list[bytes]:
    if not images.exists(kind, ns_id=ns_id):
        return []
    with images.open_raw(kind, "rb", ns_id=ns_id) as f:
        blob = f.read()
    path = images.path(kind, ns_id=ns_id)
    if len(blob) < 4 or struct.unpack_from("=I", blob)[0] != magic:
        raise RestoreError(f"{path}: not an iproute2 save file (magic {blob[:4].hex()})")
    try:
        return rtnl.messages(blob[4:])
    except ValueError as exc:
        raise RestoreError(f"{path}: {exc}") from None


def load_images(images: ImageDir, ns_id: int) -> NetRestore:
    net = NetRestore(images.read_one("netns", ns_id=ns_id),
                     images.read("netdev", missing_ok=True, ns_id=ns_id))
    known = {netdev_pb2.LOOPBACK, netdev_pb2.VETH, netdev_pb2.BRIDGE, netdev_pb2.MACVLAN, netdev_pb2.TUN,
             netdev_pb2.EXTLINK}
    by_index = {d.ifindex: d for d in net.netdevs}
    for d in net.netdevs:
        if d.type not in known or (d.type == netdev_pb2.EXTLINK and d.stasis.kind not in SIMPLE_KINDS):
            kind = f", {d.stasis.kind}" if d.stasis.kind else ""
            raise RestoreError(f"network device {d.name} (type {d.type}{kind}): not supported")
        if d.type == netdev_pb2.VETH and not d.stasis.external_peer and d.peer_ifindex not in by_index:
            raise RestoreError(f"veth {d.name}: its peer #{d.peer_ifindex} is not in the images (a peer in "
                               "another network namespace is not supported)")
        if d.type == netdev_pb2.MACVLAN and d.stasis.link not in by_index:
            raise RestoreError(f"macvlan {d.name}: its lower device #{d.stasis.link} is not in the images")
    net.addrs = _saved(images, "ifaddr", IFADDR_MAGIC, ns_id)
    net.routes = _saved(images, "route", ROUTE_MAGIC, ns_id) + _saved(images, "route6", ROUTE_MAGIC, ns_id)
    for kind, msgs, want in (("ifaddr", net.addrs, RTM_NEWADDR), ("route", net.routes, RTM_NEWROUTE)):
        if any(rtnl.msg_type(m) != want for m in msgs):
            raise RestoreError(f"{kind}-{ns_id}.img: holds netlink messages of another type")
    if net.netns.HasField("stasis") and net.netns.stasis.neigh:
        try:
            net.neigh = rtnl.messages(net.netns.stasis.neigh)
        except ValueError as exc:
            raise RestoreError(f"netns-{ns_id}.img: its static neighbours: {exc}") from None
        if any(rtnl.msg_type(m) != RTM_NEWNEIGH for m in net.neigh):
            raise RestoreError(f"netns-{ns_id}.img: its static neighbours hold other netlink messages")
    if images.exists("nftables", ns_id=ns_id):
        with images.open_raw("nftables", "rb", ns_id=ns_id) as f:
            raw = f.read()
        try:
            net.nft = raw.decode()
        except UnicodeDecodeError as exc:
            path = images.path("nftables", ns_id=ns_id)
            raise RestoreError(f"{path}: not a ruleset text ({exc})") from None
    return net


def _conf_writes(family: str, dev: str, names: tuple[str, ...], entries: Any) -> list[tuple[str, str]]:
    out = []
    for n, e in zip(names, entries, strict=False):
        if e.HasField("iarg"):
            out.append((f"/proc/sys/net/{family}/conf/{dev}/{n}", str(e.iarg)))
        elif e.HasField("sarg"):
            out.append((f"/proc/sys/net/{family}/conf/{dev}/{n}", e.sarg))
    return out


def _write_sysctls(values: list[tuple[str, str]], where: str) -> None:
    for full, text in values:
        if not os.path.exists(full):
            continue
        try:
            now = nsworker.read_text(full) or ""
        except OSError:
            now = ""
        if " ".join(now.split()) != " ".join(text.split()):
            try:
                nsworker.write_text(full, text)
            except OSError as exc:
                raise OSError(exc.errno, f"{where}: {full} = {text}: {exc.strerror}") from None


def _ifinfo(d: netdev_pb2.net_device_entry, name: bool = True) -> bytes:
    body = rtnl.IFINFO.pack(socket.AF_UNSPEC, 0, d.ifindex, 0, 0)
    if name:
        body += rtnl.attr(IFLA_IFNAME, d.name.encode() + b"\0")
    body += rtnl.attr(IFLA_MTU, struct.pack("=I", d.mtu))
    if d.HasField("address") and d.address:
        body += rtnl.attr(IFLA_ADDRESS, d.address)
    if d.stasis.HasField("txqlen"):
        body += rtnl.attr(IFLA_TXQLEN, struct.pack("=I", d.stasis.txqlen))
    return body


def _linkinfo(kind: str, data: bytes) -> bytes:
    inner = rtnl.attr(IFLA_INFO_KIND, kind.encode())
    if data:
        inner += rtnl.attr(IFLA_INFO_DATA, data)
    return rtnl.attr(IFLA_LINKINFO, inner)


def _make_tun(d: netdev_pb2.net_device_entry) -> None:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.ioctl(fd, TUNSETIFINDEX, struct.pack("I", d.ifindex))
        fcntl.ioctl(fd, TUNSETIFF, IFREQ_FLAGS.pack(d.name.encode(), d.tun.flags & ~IFF_PERSIST & 0xFFFF))
        fcntl.ioctl(fd, TUNSETVNETHDRSZ, struct.pack("i", d.tun.vnethdr))
        fcntl.ioctl(fd, TUNSETSNDBUF, struct.pack("i", d.tun.sndbuf))
        if d.tun.owner != -1:
            fcntl.ioctl(fd, TUNSETOWNER, d.tun.owner)
        if d.tun.group != -1:
            fcntl.ioctl(fd, TUNSETGROUP, d.tun.group)
        fcntl.ioctl(fd, TUNSETPERSIST, 1)
    finally:
        os.close(fd)


def _make_external(nl: rtnl.Rtnl, req: bytes, outside: str, outer_ns: int) -> None:
    """A veth pair with its peer in the engine's namespace. A peer of that name that exists already may be
    the one of the namespace the dump just killed, which the kernel tears down a little later: waited for."""
    deadline = time.monotonic() + EXTERNAL_WAIT
    while True:
        try:
            nl.call(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, req)
            return
        except FileExistsError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _order(devs: list[netdev_pb2.net_device_entry]) -> list[netdev_pb2.net_device_entry]:
    """Bridges first (their ports are put in them), lower devices before their macvlans."""
    rank = {netdev_pb2.LOOPBACK: 0, netdev_pb2.BRIDGE: 1, netdev_pb2.MACVLAN: 3}
    return sorted(devs, key=lambda d: rank.get(d.type, 2))


def _replay(nl: rtnl.Rtnl, msgs: list[bytes], typ: int, what: str, passes: int = 1) -> int:
    """Each message again as a new object; EEXIST (made again by the kernel) is fine. Messages that fail
    (a gateway not reachable yet) are tried again in the next pass."""
    todo, made = list(msgs), 0
    for i in range(passes):
        failed: list[tuple[bytes, OSError]] = []
        for m in todo:
            try:
                nl.call(typ, NLM_F_CREATE | NLM_F_EXCL, rtnl.body(m))
                made += 1
            except FileExistsError:
                pass
            except OSError as exc:
                failed.append((m, exc))
        if not failed:
            return made
        if len(failed) == len(todo) or i == passes - 1:
            bad, err = failed[0]
            raise OSError(err.errno, f"{what} {_describe(typ, bad)}: {err.strerror}")
        todo = [m for m, _ in failed]
    return made


def _describe(typ: int, m: bytes) -> str:
    if typ == RTM_NEWROUTE:
        return _route_text(m)
    if typ == RTM_NEWADDR:
        fam, plen, _, _, idx = rtnl.IFADDR.unpack_from(m, NLMSG_HDR)
        a = rtnl.attrs(m, NLMSG_HDR + rtnl.IFADDR.size)
        return f"{_addr_text(fam, a.get(IFA_LOCAL, a.get(IFA_ADDRESS, b'')))}/{plen} on #{idx}"
    return f"message of type {typ}"


def _route_request(m: bytes) -> bytes:
    """A dumped route as a request: without the nexthop state flags the kernel reports but refuses (dead,
    linkdown, offload, trap)."""
    head = NLMSG_HDR + rtnl.RTMSG.size - 4
    flags = struct.unpack_from("=I", m, head)[0] & ROUTE_REQUEST_FLAGS
    out = bytearray(m[:head] + struct.pack("=I", flags) + m[head + 4:])
    off = NLMSG_HDR + rtnl.RTMSG.size
    while off + rtnl.RTA.size <= len(out):  # the same in each nexthop of a multipath route
        ln, typ = rtnl.RTA.unpack_from(out, off)
        if ln < rtnl.RTA.size:
            break
        if typ == RTA_MULTIPATH:
            hop, end = off + rtnl.RTA.size, off + ln
            while hop + 8 <= end:
                hlen = struct.unpack_from("=H", out, hop)[0]
                if hlen < 8:
                    break
                out[hop + 2] &= ROUTE_REQUEST_FLAGS
                hop += rtnl.align(hlen)
        off += rtnl.align(ln)
    return bytes(out)


def _ipv6_on(d: netdev_pb2.net_device_entry) -> bool:
    i = DEVCONFS6.index("disable_ipv6")
    return len(d.conf6) > i and d.conf6[i].HasField("iarg") and d.conf6[i].iarg == 0


def _ready(m: bytes) -> tuple[bool, bool]:
    """(running, IPv6 ready) of a link as RTM_GETLINK shows it."""
    flags = rtnl.IFINFO.unpack_from(m, NLMSG_HDR)[3]
    spec = rtnl.attrs(rtnl.attrs(m, NLMSG_HDR + rtnl.IFINFO.size).get(IFLA_AF_SPEC, b""))
    inet6 = rtnl.attrs(spec.get(socket.AF_INET6, b""))
    return bool(flags & IFF_RUNNING), bool(rtnl.u32(inet6.get(IFLA_INET6_FLAGS, b"\0\0\0\0")) & IF_READY)


def _carriers(nl: rtnl.Rtnl, devs: list[netdev_pb2.net_device_entry]) -> None:
    """Wait until every link that was running at the dump runs again, and its IPv6 is ready: the kernel
    does both asynchronously once the carrier is on (linkwatch), and then gives the link its IPv6 link-local
    address and resets its IPv6 MTU to the link's. Not a veth with its peer outside: that one is down until
    whoever asked for it sets it up."""
    want = {d.ifindex: _ipv6_on(d) for d in devs if d.flags & IFF_RUNNING and not d.stasis.external_peer}
    deadline = time.monotonic() + CARRIER_WAIT
    while want:
        for m in nl.dump(RTM_GETLINK, rtnl.IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0)):
            idx = rtnl.IFINFO.unpack_from(m, NLMSG_HDR)[2]
            running, ready = _ready(m)
            if idx in want and running and (ready or not want[idx]):
                del want[idx]
        if not want or time.monotonic() > deadline:
            break
        time.sleep(0.005)
    if want:
        log.info("links %s do not run yet after %.1f s", sorted(want), CARRIER_WAIT)


def _addr_key(m: bytes) -> tuple[int, int, int, bytes]:
    fam, plen, _, _, idx = rtnl.IFADDR.unpack_from(m, NLMSG_HDR)
    a = rtnl.attrs(m, NLMSG_HDR + rtnl.IFADDR.size)
    return fam, idx, plen, a.get(IFA_LOCAL, a.get(IFA_ADDRESS, b""))


def _extra_addrs(nl: rtnl.Rtnl, saved: list[bytes]) -> None:
    """Remove the addresses the kernel made by itself that the namespace did not have (a link-local address
    of another address generation mode, one the program had removed)."""
    keep = {_addr_key(m) for m in saved}
    for m in nl.dump(RTM_GETADDR, rtnl.IFADDR.pack(socket.AF_UNSPEC, 0, 0, 0, 0)):
        if _addr_key(m) not in keep:
            try:
                nl.call(RTM_DELADDR, 0, rtnl.body(m))
            except OSError as exc:
                raise OSError(exc.errno, f"removing {_describe(RTM_NEWADDR, m)}: {exc.strerror}") from None


def _build(net: NetRestore, ext: dict[str, str], outer_ns: int, values: list[tuple[str, str]]) -> None:
    """In the new network namespace (a worker): everything, in the order the module's docstring gives."""
    where = "its network namespace"
    ns = net.netns
    _write_sysctls([(f"/proc/sys/net/{n}", t) for n, t in values], where)
    late: list[tuple[str, str]] = []
    for dev, f4, f6 in (("default", ns.def_conf4, ns.def_conf6), ("all", ns.all_conf4, ns.all_conf6)):
        confs = _conf_writes("ipv4", dev, DEVCONFS4, f4) + _conf_writes("ipv6", dev, DEVCONFS6, f6)
        late += [(p, t) for p, t in confs if p.rsplit("/", 1)[1] in LATE_CONFS]
        _write_sysctls([(p, t) for p, t in confs if p.rsplit("/", 1)[1] not in LATE_CONFS], where)
    _write_sysctls([("/proc/sys/net/ipv6/conf/all/accept_dad", "0")], where)  # DAD runs if all or dev ask
    devs = _order(list(net.netdevs))
    by_index = {d.ifindex: d for d in devs}
    made: set[int] = set()
    with rtnl.Rtnl() as nl:
        for d in devs:
            if d.ifindex in made:
                continue
            try:
                if d.type == netdev_pb2.LOOPBACK:
                    nl.call(RTM_SETLINK, 0, _ifinfo(d, name=False))
                elif d.type == netdev_pb2.VETH:
                    if d.stasis.external_peer:
                        peer = rtnl.IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
                        peer += rtnl.attr(IFLA_IFNAME, ext[d.name].encode() + b"\0")
                        peer += rtnl.attr(IFLA_NET_NS_FD, struct.pack("=I", outer_ns))
                    else:
                        p = by_index[d.peer_ifindex]
                        peer = _ifinfo(p)
                        made.add(p.ifindex)
                    req = _ifinfo(d) + _linkinfo("veth", rtnl.attr(VETH_INFO_PEER, peer))
                    if d.stasis.external_peer:
                        _make_external(nl, req, ext[d.name], outer_ns)
                    else:
                        nl.call(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, req)
                elif d.type == netdev_pb2.BRIDGE:
                    nl.call(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, _ifinfo(d) + _linkinfo("bridge",
                                                                                           d.stasis.info_data))
                elif d.type == netdev_pb2.MACVLAN:
                    data = rtnl.attr(IFLA_MACVLAN_MODE, struct.pack("=I", d.macvlan.mode))
                    if d.macvlan.HasField("flags"):
                        data += rtnl.attr(IFLA_MACVLAN_FLAGS, struct.pack("=H", d.macvlan.flags))
                    lower = rtnl.attr(IFLA_LINK, struct.pack("=I", d.stasis.link))
                    nl.call(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL,
                            _ifinfo(d) + lower + _linkinfo("macvlan", data))
                elif d.type == netdev_pb2.EXTLINK:
                    nl.call(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL,
                            _ifinfo(d) + _linkinfo(d.stasis.kind, b""))
                elif d.type == netdev_pb2.TUN:
                    _make_tun(d)
                    nl.call(RTM_SETLINK, 0, _ifinfo(d, name=False))
            except FileExistsError:
                taken = ext.get(d.name) if d.stasis.external_peer else None
                raise OSError(errno.EEXIST, f"{where}: cannot make {d.name} (ifindex {d.ifindex})"
                              + (f": {taken} exists already outside" if taken else
                                 ": the name or ifindex is taken")) from None
            except OSError as exc:
                raise OSError(exc.errno, f"{where}: cannot make {d.name} (ifindex {d.ifindex}): "
                                         f"{exc.strerror}") from None
            made.add(d.ifindex)
        for d in devs:
            if d.HasField("master"):
                nl.call(RTM_SETLINK, 0, rtnl.IFINFO.pack(socket.AF_UNSPEC, 0, d.ifindex, 0, 0)
                        + rtnl.attr(IFLA_MASTER, struct.pack("=I", d.master)))
            if d.stasis.slave_data:
                nl.call(RTM_NEWLINK, 0, rtnl.IFINFO.pack(socket.AF_UNSPEC, 0, d.ifindex, 0, 0)
                        + rtnl.attr(IFLA_LINKINFO, rtnl.attr(IFLA_INFO_SLAVE_DATA, d.stasis.slave_data)))
        for d in devs:  # once every port is in its bridge: a port added changes a bridge's MTU
            body = rtnl.IFINFO.pack(socket.AF_UNSPEC, 0, d.ifindex, 0, 0)
            step = (1 if d.mtu > 68 else -1) if d.type == netdev_pb2.BRIDGE else 0
            body += rtnl.attr(IFLA_MTU, struct.pack("=I", d.mtu - step))
            if d.type == netdev_pb2.BRIDGE:  # a change, so that the bridge keeps it as the user's
                nl.call(RTM_SETLINK, 0, body)
                body = rtnl.IFINFO.pack(socket.AF_UNSPEC, 0, d.ifindex, 0, 0) + rtnl.attr(
                    IFLA_MTU, struct.pack("=I", d.mtu))
            if d.stasis.alias:
                body += rtnl.attr(IFLA_IFALIAS, d.stasis.alias.encode())
            nl.call(RTM_SETLINK, 0, body)
        for d in devs:
            confs = _conf_writes("ipv4", d.name, DEVCONFS4, d.conf4) + _conf_writes("ipv6", d.name, DEVCONFS6,
                                                                                  d.conf6)
            late += [(p, t) for p, t in confs if p.rsplit("/", 1)[1] in LATE_CONFS]
            early = [(p, t) for p, t in confs if p.rsplit("/", 1)[1] not in LATE_CONFS]
            early.append((f"/proc/sys/net/ipv6/conf/{d.name}/accept_dad", "0"))  # no DAD for what comes back
            _write_sysctls(early, f"{where}: {d.name}")
        for d in devs:
            flags = d.flags & SETTABLE_FLAGS
            nl.call(RTM_SETLINK, 0, rtnl.IFINFO.pack(socket.AF_UNSPEC, 0, d.ifindex, flags, SETTABLE_FLAGS))
        _carriers(nl, devs)
        # a no-op that takes the RTNL lock: a link's IPv6 shows ready to a dump (RCU) while the notifier
        # that made it so may still run, and that one resets the link's IPv6 MTU (written late, below)
        if devs:
            nl.call(RTM_SETLINK, 0, rtnl.IFINFO.pack(socket.AF_UNSPEC, 0, devs[0].ifindex, 0, 0))
        _replay(nl, net.addrs, RTM_NEWADDR, f"{where}: address")
        _extra_addrs(nl, net.addrs)
        _replay(nl, [_route_request(m) for m in net.routes], RTM_NEWROUTE, f"{where}: route", passes=4)
        _replay(nl, net.neigh, RTM_NEWNEIGH, f"{where}: neighbour")
    if net.nft:
        nft = shutil.which("nft")
        if nft is None:
            raise OSError(errno.ENOENT, f"{where}: the images hold an nftables ruleset but nft (Debian "
                                        "package nftables) is not installed")
        r = subprocess.run([nft, "-f", "-"], input=net.nft, capture_output=True, text=True,
                           timeout=NFT_TIMEOUT)
        if r.returncode:
            raise OSError(errno.EPERM, f"{where}: nft -f: {r.stderr.strip()}")
    _write_sysctls([(p, t) for p, t in late if not p.endswith("/accept_redirects")], where)
    _write_sysctls([(p, t) for p, t in late if p.endswith("/accept_redirects")], where)


def restore(ctx: RestoreContext, root: Task, net: NetRestore, sockets_here: bool = True) -> None:
    """In the new network namespace of `root` (the root helper, or a process with a nested one): sysctls,
    links, addresses, routes, neighbours, nftables; then sockets are made there (`sockets_here`: the tree's
    sockets)."""
    ns = net.netns
    values = [(n, str(c.iarg)) for n, c in zip(UNIX_SYSCTLS, ns.unix_conf, strict=False)]
    values += list(zip(ns.stasis.names, ns.stasis.values, strict=True))
    ext = dict(ctx.opts.ext_veths)
    for d in net.netdevs:
        if d.stasis.external_peer and d.name not in ext:
            raise RestoreError(f"veth {d.name} had its peer outside the tree's network namespace: give the "
                               f"name of the new peer with --external veth[{d.name}]:NAME")
    fd = os.open(f"/proc/{root.pid}/ns/net", O_RDONLY | O_CLOEXEC)
    outer = os.open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)
    try:
        nsworker.run([(fd, CLONE_NEWNET)], lambda: _build(net, ext, outer, values),
                     f"pid {root.pid}: network namespace")
    except (OSError, RuntimeError) as exc:
        raise RestoreError(_plain(exc)) from exc
    finally:
        os.close(fd)
        os.close(outer)
    log.info("pid %d: network namespace rebuilt: %d links, %d addresses, %d routes", root.pid,
             len(net.netdevs), len(net.addrs), len(net.routes))
    if not sockets_here:
        return
    from engine.objects.files import sockets

    sockets.set_restore_netns(os.open(f"/proc/{root.pid}/ns/net", O_RDONLY | O_CLOEXEC))


def restore_done(ctx: RestoreContext) -> None:
    from engine.objects.files import sockets

    sockets.set_restore_netns(None)


def link_kind_works(kind: str) -> bool:
    """Whether the kernel makes links of this kind (its module built in or loadable): one made in a
    throwaway network namespace."""
    def probe() -> bool:
        ret = lib.st_syscall(nr.unshare, CLONE_NEWNET, 0, 0, 0, 0, 0)
        if ret < 0:
            raise OSError(-ret, "unshare(CLONE_NEWNET)")
        body = rtnl.IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0) + rtnl.attr(IFLA_IFNAME, b"probe0\0")
        if kind == "macvlan":
            with rtnl.Rtnl() as nl:
                nl.call(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, rtnl.IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
                        + rtnl.attr(IFLA_IFNAME, b"lower0\0") + _linkinfo("bridge", b""))
            body += rtnl.attr(IFLA_LINK, struct.pack("=I", socket.if_nametoindex("lower0")))
        with rtnl.Rtnl() as nl:
            nl.call(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, body + _linkinfo(kind, b""))
        return True

    try:
        return bool(nsworker.run([], probe, f"a {kind} link"))
    except (OSError, RuntimeError):
        return False
