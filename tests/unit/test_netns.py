"""engine.objects.rtnl and engine.objects.netns: netlink messages and attributes, the iproute2 save format,
CRIU's per-device sysctl lists, route requests, --external veth[] on the command line."""

from __future__ import annotations

import socket
import struct
from pathlib import Path

import pytest

from engine import cli
from engine.errors import RestoreError, StasisError
from engine.images.imagedir import ImageDir
from engine.images.pb import netdev_pb2, sysctl_pb2
from engine.objects import netns, rtnl


def _msg(typ: int, body: bytes) -> bytes:
    return rtnl.NLMSG.pack(rtnl.NLMSG.size + len(body), typ, 0, 1, 0) + body


def test_attrs_round_trip() -> None:
    data = rtnl.attr(3, b"veth0\0") + rtnl.attr(4, struct.pack("=I", 1400)) + rtnl.attr(0x8000 | 18, b"xyz")
    a = rtnl.attrs(data)
    assert rtnl.cstr(a[3]) == "veth0" and rtnl.u32(a[4]) == 1400
    assert a[18] == b"xyz"  # NLA_F_NESTED masked off
    assert len(data) % 4 == 0
    assert rtnl.attrs(data[:-3]) == {3: a[3], 4: a[4]}  # a truncated attribute is not read


def test_messages_and_the_save_format() -> None:
    local = rtnl.attr(2, socket.inet_aton("10.1.1.1"))
    addr = _msg(20, rtnl.IFADDR.pack(socket.AF_INET, 24, 0, 0, 3) + local)
    route = _msg(24, rtnl.RTMSG.pack(socket.AF_INET, 16, 0, 0, 254, 3, 0, 1, 0x10))
    blob = netns._joined([addr, route])
    assert len(blob) % 4 == 0
    msgs = rtnl.messages(blob)
    assert [rtnl.msg_type(m) for m in msgs] == [20, 24]
    assert netns._addr_key(msgs[0]) == (socket.AF_INET, 3, 24, socket.inet_aton("10.1.1.1"))
    with pytest.raises(ValueError, match="truncated"):
        rtnl.messages(blob[:-2])


def test_route_request_drops_state_flags() -> None:
    dead_linkdown_onlink = 0x1 | 0x10 | 0x4
    m = _msg(24, rtnl.RTMSG.pack(socket.AF_INET, 16, 0, 0, 254, 3, 0, 1, dead_linkdown_onlink)
             + rtnl.attr(1, socket.inet_aton("10.2.0.0")))
    req = netns._route_request(m)
    assert rtnl.RTMSG.unpack_from(req, rtnl.NLMSG.size)[8] == 0x4
    assert req[:rtnl.NLMSG.size + 8] == m[:rtnl.NLMSG.size + 8] and req[-8:] == m[-8:]
    assert netns._route_text(m) == "10.2.0.0/16 table 254 proto 3"


def test_criu_sysctl_lists() -> None:
    assert len(netns.DEVCONFS4) == 30 and len(netns.DEVCONFS6) == 42
    assert len(set(netns.DEVCONFS4)) == 30 and len(set(netns.DEVCONFS6)) == 42
    values = ["1\n"] * len(netns.DEVCONFS6)
    values[netns.DEVCONFS6.index("stable_secret")] = None  # unset: the kernel answers EIO
    values[netns.DEVCONFS6.index("hop_limit")] = "33\n"
    entries = netns._confs(values, netns.DEVCONFS6)
    secret = entries[netns.DEVCONFS6.index("stable_secret")]
    assert secret.type == sysctl_pb2.CTL_STR and not secret.HasField("sarg")
    assert entries[netns.DEVCONFS6.index("hop_limit")].iarg == 33
    writes = dict(netns._conf_writes("ipv6", "v0", netns.DEVCONFS6, entries))
    assert writes["/proc/sys/net/ipv6/conf/v0/hop_limit"] == "33"
    assert "/proc/sys/net/ipv6/conf/v0/stable_secret" not in writes


def test_external_veth_options() -> None:
    args = type("A", (), {"external": ["veth[eth0]", "mnt[/dev]:ZDTM_DEV"]})()
    assert cli._ext_veths(args, dump=True) == (("eth0", ""),)
    with pytest.raises(StasisError, match=r"veth\[IFNAME\]:OUTNAME"):
        cli._ext_veths(args, dump=False)
    args.external = ["veth[eth0]:vethXYZ"]
    assert cli._ext_veths(args, dump=False) == (("eth0", "vethXYZ"),)
    assert cli._ext_mounts(args, dump=False) == ()
    args.external = ["veth[a-name-longer-than-15]:x"]
    with pytest.raises(StasisError):
        cli._ext_veths(args, dump=True)


def test_route_request_multipath_hops() -> None:
    hop = struct.pack("=HBBi", 8 + 8, 0x10 | 0x1, 0, 3) + rtnl.attr(5, socket.inet_aton("10.0.0.2"))
    hop2 = struct.pack("=HBBi", 8 + 8, 0x4, 0, 4) + rtnl.attr(5, socket.inet_aton("10.0.1.2"))
    m = _msg(24, rtnl.RTMSG.pack(socket.AF_INET, 16, 0, 0, 254, 3, 0, 1, 0) + rtnl.attr(9, hop + hop2))
    req = netns._route_request(m)
    mp = rtnl.attrs(req, rtnl.NLMSG.size + rtnl.RTMSG.size)[9]
    assert mp[2] == 0 and mp[16 + 2] == 0x4  # linkdown and dead gone, onlink kept
    assert mp[8:16] == hop[8:16] and mp[24:] == hop2[8:]


def _images(tmp_path: Path, devs: list[netdev_pb2.net_device_entry], ifaddr: bytes) -> ImageDir:
    d = ImageDir(tmp_path)
    net = netns.NetDump(netdev_pb2.netns_entry(), devs, ifaddr, struct.pack("=I", netns.ROUTE_MAGIC),
                        struct.pack("=I", netns.ROUTE_MAGIC), "table inet t {\n}\n")
    netns.write_images(d, net, 7)
    return d


def test_images_round_trip_and_damage(tmp_path: Path) -> None:
    lo = netdev_pb2.net_device_entry(type=netdev_pb2.LOOPBACK, ifindex=1, mtu=65536, flags=0x49, name="lo")
    a = netdev_pb2.net_device_entry(type=netdev_pb2.VETH, ifindex=2, mtu=1500, flags=0x1003, name="a",
                                    peer_ifindex=3, peer_nsid=7)
    b = netdev_pb2.net_device_entry(type=netdev_pb2.VETH, ifindex=3, mtu=1500, flags=0x1003, name="b",
                                    peer_ifindex=2, peer_nsid=7)
    local = rtnl.attr(2, socket.inet_aton("10.1.1.1"))
    addr = _msg(20, rtnl.IFADDR.pack(socket.AF_INET, 24, 0, 0, 2) + local)
    d = _images(tmp_path, [lo, a, b], struct.pack("=I", netns.IFADDR_MAGIC) + netns._joined([addr]))
    net = netns.load_images(d, 7)
    assert [x.name for x in net.netdevs] == ["lo", "a", "b"] and net.addrs == [addr] and net.routes == []
    assert net.nft == "table inet t {\n}\n"
    assert [x.name for x in netns._order(net.netdevs)][0] == "lo"

    with open(d.path("ifaddr", ns_id=7), "wb") as f:  # not iproute2's magic
        f.write(b"\0\0\0\0" + addr)
    with pytest.raises(RestoreError, match="not an iproute2 save file"):
        netns.load_images(d, 7)
    with open(d.path("ifaddr", ns_id=7), "wb") as f:  # cut in the middle of a message
        f.write(struct.pack("=I", netns.IFADDR_MAGIC) + addr[:-3])
    with pytest.raises(RestoreError, match="truncated"):
        netns.load_images(d, 7)
    with open(d.path("ifaddr", ns_id=7), "wb") as f:  # a route where addresses belong
        route = _msg(24, rtnl.RTMSG.pack(2, 0, 0, 0, 254, 3, 0, 1, 0))
        f.write(struct.pack("=I", netns.IFADDR_MAGIC) + route)
    with pytest.raises(RestoreError, match="another type"):
        netns.load_images(d, 7)
    with open(d.path("nftables", ns_id=7), "wb") as f:
        f.write(b"\xff\xfe")
    with open(d.path("ifaddr", ns_id=7), "wb") as f:
        f.write(struct.pack("=I", netns.IFADDR_MAGIC))
    with pytest.raises(RestoreError, match="not a ruleset text"):
        netns.load_images(d, 7)

    other = tmp_path / "other"
    other.mkdir()
    d2 = _images(other, [lo, a], struct.pack("=I", netns.IFADDR_MAGIC))
    with pytest.raises(RestoreError, match="its peer #3 is not in the images"):
        netns.load_images(d2, 7)
