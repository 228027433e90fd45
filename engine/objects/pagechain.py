"""Pages read through a chain of images directories (criu's `parent` links and PE_PARENT entries).

Each level is one directory's pagemap-<pid>.img with its pages-<id>.img: PE_PRESENT entries are back to
back in the pages file, PE_PARENT entries are found in the level above (the directory's `parent`), and so on
up the chain, as criu's page-read does.
"""

from __future__ import annotations

import bisect
import os
from pathlib import Path

from engine.abi import nr
from engine.abi.consts import FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE
from engine.compel.memory import Range
from engine.errors import RestoreError, StasisError
from engine.images.reader import open_image, read_entries
from engine.log import log
from engine.native import PAGE_SIZE, ffi, lib

PE_PARENT, PE_PRESENT = 1, 4
MAX_DEPTH = 64


class Level:
    def __init__(self, root: Path, name: str, depth: int) -> None:
        self.root, self.name, self.depth = root, name, depth
        path = root / name
        if not path.exists():
            raise RestoreError(f"{path}: missing (the parent images of a PE_PARENT entry)")
        head, *entries = read_entries(path, "PAGEMAP")
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.flags: list[int] = []
        self.offs: list[int] = []
        off = 0
        for e in sorted(entries, key=lambda x: x.vaddr):
            n = e.nr_pages if e.HasField("nr_pages") else e.compat_nr_pages
            fl = e.flags if e.HasField("flags") else PE_PRESENT
            self.starts.append(e.vaddr)
            self.ends.append(e.vaddr + n * PAGE_SIZE)
            self.flags.append(fl)
            self.offs.append(off)
            if fl & PE_PRESENT:
                off += n * PAGE_SIZE
        self.pages = root / f"pages-{head.pages_id}.img"
        self.fd = -1
        self.up: Level | None = None

    def parent(self) -> Level:
        if self.up is None:
            link = self.root / "parent"
            if self.depth >= MAX_DEPTH or not link.exists():
                raise RestoreError(f"{self.root / self.name}: PE_PARENT entries but no parent images "
                                   f"({link})")
            self.up = Level(link.resolve(), self.name, self.depth + 1)
        return self.up

    def read(self, s: int, e: int, local: int) -> None:
        """Bytes of [s, e) into local memory."""
        pos = s
        while pos < e:
            i = bisect.bisect_right(self.starts, pos) - 1
            if i < 0 or self.ends[i] <= pos:
                raise RestoreError(f"{self.root / self.name}: no page at {pos:#x} in the chain")
            end = min(e, self.ends[i])
            if self.flags[i] & PE_PRESENT:
                if self.fd < 0:
                    self.fd = open_image(self.pages)
                n = end - pos
                buf = ffi.buffer(ffi.cast("char *", local + pos - s), n)
                if os.preadv(self.fd, [buf], self.offs[i] + pos - self.starts[i]) != n:
                    raise RestoreError(f"{self.pages}: short read at {self.offs[i] + pos - self.starts[i]}")
            elif self.flags[i] & PE_PARENT:
                self.parent().read(pos, end, local + pos - s)
            else:
                raise RestoreError(f"{self.root / self.name}: entry at {self.starts[i]:#x} has no pages")
            pos = end

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.up is not None:
            self.up.close()


class Chain:
    """The pages of one pagemap (by file name) in `root` and the directories above it."""

    def __init__(self, root: Path, ipid: int, name: str | None = None) -> None:
        self.top = Level(root, name or f"pagemap-{ipid}.img", 0)

    def read_into(self, ranges: list[Range], addr: int) -> None:
        off = addr
        for s, e in ranges:
            self.top.read(s, e, off)
            off += e - s

    def close(self) -> None:
        self.top.close()


# -- dedup (criu's `dedup` and --auto-dedup) ---------------------------------------------------------
def dedup(root: Path, sign_key: str | None = None) -> int:
    """Punch holes in the parent images' pages that `root`'s own pages (PE_PRESENT) supersede, up the whole
    chain; every directory changed has its digests recorded again. Returns the bytes punched. The parents
    are then only good as the parents of `root` (as with criu's dedup)."""
    from engine.images import digest

    if not (root / "parent").exists():
        return 0
    changed: set[Path] = set()
    total = 0
    for pm in sorted(root.glob("pagemap-*.img")):
        if pm.name.startswith("pagemap-shmem-"):
            continue
        top = Level(root, pm.name, 0)
        try:
            mine = [(top.starts[i], top.ends[i]) for i in range(len(top.starts)) if top.flags[i] & PE_PRESENT]
            if not mine:
                continue
            try:
                up = top.parent()
            except RestoreError:
                continue
            total += _punch(up, mine, changed)
        finally:
            top.close()
    for d in sorted(changed):
        digest.refresh(d, sign_key)
    log.info("dedup of %s: %d KiB punched in %d parent directories", root, total >> 10, len(changed))
    return total


def _punch(level: Level, ranges: list[Range], changed: set[Path]) -> int:
    """Holes where `level` holds these ranges itself; the parts it has as PE_PARENT go up the chain."""
    total = 0
    deeper: list[Range] = []
    fd = -1
    try:
        for s, e in ranges:
            i = max(bisect.bisect_right(level.starts, s) - 1, 0)
            while i < len(level.starts) and level.starts[i] < e:
                a, b = max(s, level.starts[i]), min(e, level.ends[i])
                if a < b:
                    if level.flags[i] & PE_PRESENT:
                        if fd < 0:
                            fd = os.open(level.pages, os.O_RDWR | os.O_CLOEXEC)
                        off = level.offs[i] + a - level.starts[i]
                        mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
                        ret = lib.st_syscall(nr.fallocate, fd, mode, off, b - a, 0, 0)
                        if ret < 0:
                            raise StasisError(f"{level.pages}: punching a hole: {os.strerror(-ret)}")
                        total += b - a
                        changed.add(level.root)
                    elif level.flags[i] & PE_PARENT:
                        deeper.append((a, b))
                i += 1
    finally:
        if fd >= 0:
            os.close(fd)
    if deeper:
        try:
            total += _punch(level.parent(), deeper, changed)
        except RestoreError:
            pass
    return total
