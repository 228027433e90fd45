"""The datagram socket kinds' reading and refilling of the kernel, on real sockets: sender addresses,
queues sent again from their senders through the engine's raw sockets (root), netlink groups above 32."""

from __future__ import annotations

import socket

import pytest

from engine.errors import RestoreError
from engine.images.pb import sk_inet_pb2, sk_packet_pb2
from engine.objects.files import dgram, netlink, skqueue
from tests.unit.conftest import needs_root


def _entry(family: int, proto: int = 0) -> sk_inet_pb2.inet_sk_entry:
    return sk_inet_pb2.inet_sk_entry(id=1, family=family, type=socket.SOCK_DGRAM, proto=proto)


def _packet(family: int, addr: tuple, data: bytes) -> skqueue.Packet:
    e = sk_packet_pb2.sk_packet_entry(id_for=1, length=len(data))
    e.stasis.addr = dgram.sockaddr_bytes(family, addr)
    return skqueue.Packet(e, data)


@pytest.mark.parametrize("addr", [("127.0.0.1", 4242), ("::1", 6553, 0, 0), ("::ffff:127.0.0.1", 1, 0, 0)])
def test_sender_addresses_round_trip(addr: tuple) -> None:
    family = socket.AF_INET if "." in addr[0] and ":" not in addr[0] else socket.AF_INET6
    fam, raw, port = dgram.sockaddr_parse(dgram.sockaddr_bytes(family, addr))
    assert (fam, socket.inet_ntop(fam, raw), port) == (family, addr[0], addr[1])


@needs_root
@pytest.mark.parametrize(
    ("family", "proto", "host"),
    [
        (socket.AF_INET, 0, "127.0.0.1"),
        (socket.AF_INET6, 0, "::1"),
        (socket.AF_INET, 136, "127.0.0.1"),
        (socket.AF_INET6, 136, "::1"),
    ],
)
def test_a_queue_comes_back_from_its_senders(family: int, proto: int, host: str) -> None:
    """Each datagram from its sender's address and port, in order, also an empty one and a big one; the
    sender's port is held by a live socket meanwhile (no bind is needed to send from it)."""
    with (
        socket.socket(family, socket.SOCK_DGRAM, proto) as r,
        socket.socket(family, socket.SOCK_DGRAM, proto) as s,
    ):
        r.bind((host, 0))
        s.bind((host, 0))
        datas = [b"one", b"", b"x" * 60000, b"last"]
        dgram._refill(r, _entry(family, proto), [_packet(family, s.getsockname(), d) for d in datas])
        for d in datas:
            got, frm = r.recvfrom(1 << 16)
            assert (got, frm[:2]) == (d, s.getsockname()[:2])


@needs_root
def test_a_dual_stack_socket_gets_ipv4_senders_again() -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as r, socket.socket(socket.AF_INET) as s:
        r.bind(("::", 0))
        s.bind(("127.0.0.1", 0))
        mapped = ("::ffff:127.0.0.1", s.getsockname()[1], 0, 0)
        dgram._refill(r, _entry(socket.AF_INET6), [_packet(socket.AF_INET6, mapped, b"over ipv4")])
        got, frm = r.recvfrom(100)
        assert (got, frm[:2]) == (b"over ipv4", mapped[:2])


def test_a_datagram_without_a_sender_is_refused() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as r:
        r.bind(("127.0.0.1", 0))
        p = _packet(socket.AF_INET, ("127.0.0.1", 1), b"x")
        p.entry.ClearField("stasis")
        with pytest.raises(RestoreError, match="no sender address"):
            dgram._refill(r, _entry(socket.AF_INET), [p])


def test_netlink_memberships_above_32() -> None:
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0) as nl:
        for g in (1, 5, 33, 35):
            nl.setsockopt(270, 1, g)  # NETLINK_ADD_MEMBERSHIP
        assert netlink.memberships(nl) == [1, 5, 33, 35]
