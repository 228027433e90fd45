"""Which protobuf messages each image holds, how its files are named, and what raw payload follows entries."""

from __future__ import annotations

from collections.abc import Callable

from google.protobuf.message import Message

from engine.record import record

from . import magic
from .pb import (
    cgroup_pb2,
    core_pb2,
    fdinfo_pb2,
    file_lock_pb2,
    fs_pb2,
    ghost_file_pb2,
    ids_pb2,
    inventory_pb2,
    ipc_pb2,
    ipc_var_pb2,
    memfd_pb2,
    mm_pb2,
    mnt_pb2,
    netdev_pb2,
    pagemap_pb2,
    pipe_pb2,
    pstree_pb2,
    seccomp_pb2,
    sk_packet_pb2,
    stats_pb2,
    tcp_stream_pb2,
    timens_pb2,
    tty_pb2,
    userns_pb2,
    utsns_pb2,
)

# length of the EXTRA raw payload that follows an entry, computed from the entry itself
ExtraLen = Callable[[Message], int]


@record(frozen=True)
class Schema:
    """How to decode the entries of one image type (selected by its type magic)."""

    name: str  # crit's magic name
    message: type[Message]  # type of every entry (after the head, if any)
    head: type[Message] | None = None  # type of the first entry, if it differs (pagemap_head)
    extra: ExtraLen | None = None  # raw bytes after each entry

    @property
    def magic(self) -> int:
        return magic.magic_of(self.name)


def _pipe_data_len(entry: Message) -> int:
    return entry.bytes  # type: ignore[attr-defined]


def _sk_packet_len(entry: Message) -> int:
    return entry.length  # type: ignore[attr-defined]


def _tcp_queues_len(entry: Message) -> int:
    return entry.inq_len + entry.outq_len  # type: ignore[attr-defined]


def _shm_len(entry: Message) -> int:
    return 0 if entry.in_pagemaps else (entry.size + 3) & ~3  # type: ignore[attr-defined]


def _sem_len(entry: Message) -> int:
    return (entry.nsems * 2 + 7) & ~7  # type: ignore[attr-defined]


def _ghost_chunk_len(entry: Message) -> int:
    return entry.len  # type: ignore[attr-defined]


SCHEMAS: dict[str, Schema] = {
    s.name: s
    for s in (
        Schema("INVENTORY", inventory_pb2.inventory_entry),
        Schema("PSTREE", pstree_pb2.pstree_entry),
        Schema("CORE", core_pb2.core_entry),
        Schema("IDS", ids_pb2.task_kobj_ids_entry),
        Schema("MM", mm_pb2.mm_entry),
        Schema("PAGEMAP", pagemap_pb2.pagemap_entry, head=pagemap_pb2.pagemap_head),
        Schema("FS", fs_pb2.fs_entry),
        Schema("FDINFO", fdinfo_pb2.fdinfo_entry),
        Schema("FILES", fdinfo_pb2.file_entry),
        Schema("PIPES_DATA", pipe_pb2.pipe_data_entry, extra=_pipe_data_len),
        Schema("FIFO_DATA", pipe_pb2.pipe_data_entry, extra=_pipe_data_len),
        Schema("FILE_LOCKS", file_lock_pb2.file_lock_entry),
        Schema("MEMFD_INODE", memfd_pb2.memfd_inode_entry),
        Schema("GHOST_FILE", ghost_file_pb2.ghost_chunk_entry, head=ghost_file_pb2.ghost_file_entry,
               extra=_ghost_chunk_len),
        Schema("REMAP_FPATH", ghost_file_pb2.remap_file_path_entry),
        Schema("SECCOMP", seccomp_pb2.seccomp_entry),
        Schema("TIMENS", timens_pb2.timens_entry),
        Schema("STATS", stats_pb2.stats_entry),
        Schema("TTY_INFO", tty_pb2.tty_info_entry),
        Schema("SK_QUEUES", sk_packet_pb2.sk_packet_entry, extra=_sk_packet_len),
        Schema("TCP_STREAM", tcp_stream_pb2.tcp_stream_entry, extra=_tcp_queues_len),
        Schema("UTSNS", utsns_pb2.utsns_entry),
        Schema("IPC_VAR", ipc_var_pb2.ipc_var_entry),
        Schema("IPCNS_SHM", ipc_pb2.ipc_shm_entry, extra=_shm_len),
        Schema("IPCNS_SEM", ipc_pb2.ipc_sem_entry, extra=_sem_len),
        Schema("MNTS", mnt_pb2.mnt_entry),
        Schema("NETNS", netdev_pb2.netns_entry),
        Schema("NETDEV", netdev_pb2.net_device_entry),
        Schema("USERNS", userns_pb2.userns_entry),
        Schema("CGROUP", cgroup_pb2.cgroup_entry),
    )
}


def schema_for_magic(type_magic: int) -> Schema | None:
    name = magic.name_of(type_magic)
    return SCHEMAS.get(name) if name else None


@record(frozen=True)
class ImageFile:
    """One kind of file in an image directory: its name template and its image type."""

    template: str  # str.format template, e.g. "core-{tid}.img"
    type: str | None  # crit magic name; None for raw images (no header, no entries)

    def filename(self, **params: object) -> str:
        try:
            return self.template.format(**params)
        except KeyError as e:
            raise TypeError(f"image file {self.template!r} needs parameter {e.args[0]!r}") from None

    @property
    def schema(self) -> Schema:
        if self.type is None:
            raise TypeError(f"{self.template} is a raw image: it has no entries")
        return SCHEMAS[self.type]


# keys are what callers pass to ImageDir: ImageDir.write("core", entry, tid=42)
FILES: dict[str, ImageFile] = {
    "inventory": ImageFile("inventory.img", "INVENTORY"),
    "pstree": ImageFile("pstree.img", "PSTREE"),
    "core": ImageFile("core-{tid}.img", "CORE"),
    "ids": ImageFile("ids-{pid}.img", "IDS"),
    "mm": ImageFile("mm-{pid}.img", "MM"),
    "pagemap": ImageFile("pagemap-{pid}.img", "PAGEMAP"),
    "pagemap-shmem": ImageFile("pagemap-shmem-{shmid}.img", "PAGEMAP"),
    "pages": ImageFile("pages-{pages_id}.img", None),
    "fs": ImageFile("fs-{pid}.img", "FS"),
    "fdinfo": ImageFile("fdinfo-{files_id}.img", "FDINFO"),
    "files": ImageFile("files.img", "FILES"),
    "pipes-data": ImageFile("pipes-data.img", "PIPES_DATA"),
    "fifo-data": ImageFile("fifo-data.img", "FIFO_DATA"),
    "filelocks": ImageFile("filelocks.img", "FILE_LOCKS"),
    "memfd": ImageFile("memfd.img", "MEMFD_INODE"),
    "ghost-file": ImageFile("ghost-file-{id}.img", "GHOST_FILE"),
    "remap-fpath": ImageFile("remap-fpath.img", "REMAP_FPATH"),
    "tty-info": ImageFile("tty-info.img", "TTY_INFO"),
    "sk-queues": ImageFile("sk-queues.img", "SK_QUEUES"),
    "tcp-stream": ImageFile("tcp-stream-{ino:x}.img", "TCP_STREAM"),
    "seccomp": ImageFile("seccomp.img", "SECCOMP"),
    "timens": ImageFile("timens-{ns_id}.img", "TIMENS"),
    "utsns": ImageFile("utsns-{ns_id}.img", "UTSNS"),
    "ipcns-var": ImageFile("ipcns-var-{ns_id}.img", "IPC_VAR"),
    "ipcns-shm": ImageFile("ipcns-shm-{ns_id}.img", "IPCNS_SHM"),
    "ipcns-sem": ImageFile("ipcns-sem-{ns_id}.img", "IPCNS_SEM"),
    "ipcns-msg": ImageFile("ipcns-msg-{ns_id}.img", None),  # entries of two types: framed by sysvipc.py
    "mountpoints": ImageFile("mountpoints-{ns_id}.img", "MNTS"),
    "tmpfs-dev": ImageFile("tmpfs-dev-{dev}.tar.gz.img", None),
    "netns": ImageFile("netns-{ns_id}.img", "NETNS"),
    "netdev": ImageFile("netdev-{ns_id}.img", "NETDEV"),
    "ifaddr": ImageFile("ifaddr-{ns_id}.img", None),  # `ip addr save`: a magic, then RTM_NEWADDR messages
    "route": ImageFile("route-{ns_id}.img", None),  # `ip route save`
    "route6": ImageFile("route6-{ns_id}.img", None),  # `ip -6 route save`
    "nftables": ImageFile("nftables-{ns_id}.img", None),  # `nft list ruleset` text
    "userns": ImageFile("userns-{ns_id}.img", "USERNS"),
    "cgroup": ImageFile("cgroup.img", "CGROUP"),
    "stats-dump": ImageFile("stats-dump", "STATS"),
    "stats-restore": ImageFile("stats-restore", "STATS"),
}
