"""sk-queues.img: the packets waiting in sockets' receive queues, in queue order, for every socket kind
that keeps its queue (unix sockets; datagram sockets with their senders in the Stasis extension).

Each entry names the socket whose receive queue holds the packet (id_for, its file id) and is followed
by the packet's bytes; in-flight fds (SCM_RIGHTS) are file ids of files.img.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.errors import ImageError
from engine.images.pb import sk_packet_pb2
from engine.objects.base import KernelObject
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext, RestoreContext


@record
class Packet:
    entry: sk_packet_pb2.sk_packet_entry
    data: bytes


@record
class Queues:
    """Dump: the packets in the order they were read. Restore: each socket's packets, by file id."""

    packets: list[Packet] = field(default_factory=list)
    by_id: dict[int, list[Packet]] = field(default_factory=dict)
    loaded: bool = False

    def add(self, id_for: int, data: bytes) -> sk_packet_pb2.sk_packet_entry:
        """A packet of socket `id_for`'s receive queue; the caller fills scm/stasis on the entry."""
        e = sk_packet_pb2.sk_packet_entry(id_for=id_for, length=len(data))
        self.packets.append(Packet(e, data))
        return e

    def of(self, fid: int) -> list[Packet]:
        return self.by_id.get(fid, [])


def queues(ctx: DumpContext | RestoreContext) -> Queues:
    return ctx.files.state(Queues)


def write_images(ctx: DumpContext) -> None:
    q = queues(ctx)
    if q.packets:
        ctx.images.write("sk-queues", [p.entry for p in q.packets], extras=[p.data for p in q.packets])


def load_images(ctx: RestoreContext) -> None:
    q = queues(ctx)
    if q.loaded:
        return
    q.loaded = True
    for entry in ctx.images.read_entries("sk-queues", missing_ok=True):
        m = entry.message
        data = bytes(entry.extra or b"")
        if len(data) != m.length:
            raise ImageError(ctx.images.path("sk-queues"), f"packet for file {m.id_for}: {len(data)} bytes, "
                             f"the entry says {m.length}")
        q.by_id.setdefault(m.id_for, []).append(Packet(m, data))


OBJECT = KernelObject("sk-queues", write_images=write_images, load_images=load_images)
