"""Image magics (criu/include/magic.h), named as crit names them.

Layout of an image file: ``[IMG_COMMON|IMG_SERVICE] TYPE_MAGIC {u32 size, message, [EXTRA]}*``;
inventory.img carries only its own magic; raw images (pages-N.img) have no header at all.
"""

from __future__ import annotations

IMG_COMMON = 0x54564319
IMG_SERVICE = 0x55105940
RAW_IMAGE_MAGIC = 0

# inventory_entry.img_version: 2 = every image but inventory has the IMG_COMMON/IMG_SERVICE first magic
CRTOOLS_IMAGES_V1 = 1
CRTOOLS_IMAGES_V1_1 = 2

MAGICS: dict[str, int] = {
    # written by a dump of an ordinary tree
    "INVENTORY": 0x58313116,
    "PSTREE": 0x50273030,
    "CORE": 0x55053847,
    "IDS": 0x54432030,
    "MM": 0x57492820,
    "PAGEMAP": 0x56084025,
    "FS": 0x51403912,
    "FDINFO": 0x56213732,
    "FILES": 0x56303138,
    "SECCOMP": 0x64413049,
    "TIMENS": 0x43114433,
    "CGROUP": 0x59383330,
    "STATS": 0x57093306,
    # written when the resources exist
    "PIPES_DATA": 0x56453709,
    "FIFO_DATA": 0x59333054,
    "SK_QUEUES": 0x56264026,
    "TCP_STREAM": 0x51465506,
    "TTY_INFO": 0x59453036,
    "TTY_DATA": 0x59413026,
    "FILE_LOCKS": 0x54323616,
    "REMAP_FPATH": 0x59133954,
    "GHOST_FILE": 0x52583605,
    "MEMFD_INODE": 0x48453499,
    "APPARMOR": 0x59423047,
    "BPFMAP_DATA": 0x64324033,
    "BINFMT_MISC": 0x67343323,
    "AUTOFS": 0x49353943,
    "IRMAP_CACHE": 0x57004059,
    "CPUINFO": 0x61404013,
    # namespaces
    "UTSNS": 0x54473203,
    "IPC_VAR": 0x53115007,
    "IPCNS_SHM": 0x46283044,
    "IPCNS_MSG": 0x55453737,
    "IPCNS_SEM": 0x59573019,
    "MNTS": 0x55563928,
    "NETNS": 0x55933752,
    "NETDEV": 0x57373951,
    "USERNS": 0x55474906,
    "PIDNS": 0x61157326,
    # legacy: never written by current CRIU, still decodable
    "REG_FILES": 0x50363636,
    "PIPES": 0x56513555,
    "FIFO": 0x58364939,
    "UNIXSK": 0x54373943,
    "INETSK": 0x56443851,
    "PACKETSK": 0x60454618,
    "NETLINK_SK": 0x58005614,
    "EVENTFD_FILE": 0x44523722,
    "EVENTPOLL_FILE": 0x45023858,
    "EVENTPOLL_TFD": 0x44433746,
    "SIGNALFD": 0x57323820,
    "INOTIFY_FILE": 0x48424431,
    "INOTIFY_WD": 0x54562009,
    "FANOTIFY_FILE": 0x55096122,
    "FANOTIFY_MARK": 0x56506035,
    "TUNFILE": 0x57143751,
    "TIMERFD": 0x50493712,
    "EXT_FILES": 0x59255641,
    "NS_FILES": 0x61394011,
    "TTY_FILES": 0x59433025,
    "PIDFD": 0x54435556,
    "CREDS": 0x54023547,
    "SIGACT": 0x55344201,
    "RLIMIT": 0x57113925,
    "ITIMERS": 0x57464056,
    "POSIX_TIMERS": 0x52603957,
    "SIGNAL": 0x59255647,
    "VMAS": 0x54123737,
}

# magics that CRIU defines as another image's magic; crit decodes them under the base name
ALIASES: dict[str, str] = {
    "PAGEMAP_SHMEM": "PAGEMAP",
    "SIGNAL_P": "SIGNAL",
    "PAGES_OLD": "PAGEMAP",
    "SHM_PAGES_OLD": "PAGEMAP",
}

# images opened with O_SERVICE: IMG_SERVICE instead of IMG_COMMON in front
SERVICE: frozenset[str] = frozenset({"STATS", "IRMAP_CACHE"})

BY_VALUE: dict[int, str] = {value: name for name, value in MAGICS.items()}
assert len(BY_VALUE) == len(MAGICS), "duplicate magic value"


def magic_of(name: str) -> int:
    """The type magic of an image kind (aliases resolve to their base)."""
    return MAGICS[ALIASES.get(name, name)]


def name_of(magic: int) -> str | None:
    """The crit name of a type magic, or None if unknown."""
    return BY_VALUE.get(magic)


def head_magic(name: str) -> int | None:
    """The first magic written before the type magic: None for inventory (and raw images)."""
    base = ALIASES.get(name, name)
    if base == "INVENTORY":
        return None
    return IMG_SERVICE if base in SERVICE else IMG_COMMON
