"""Incremental dumps: which pages changed since the parent images (criu's --prev-images-dir, --track-mem).

A dump (or pre-dump) with a parent writes only the pages that changed since it; the others get pagemap
entries with criu's PE_PARENT flag, and the images directory a `parent` symlink to the parent's, as criu
makes them (crit follows both). The parent's pages are the union of its pagemap entries (its own
PE_PARENT entries stand for pages further up the chain). What "changed" means, by way (the first one the
kernel allows; `stasis check` names it; STASIS_TRACK_MEM=WAY forces one, for tests):

- ``uffd-wp``: PAGEMAP_SCAN (6.7) with an asynchronous write-protecting userfaultfd
  (UFFD_FEATURE_WP_ASYNC). A tracking dump makes a userfaultfd in each process by an injected syscall,
  takes it with pidfd_getfd() and closes it there (the process's fd table is as it was), registers every
  private writable anonymous VMA for WP and write-protects it; a write then clears the page's protection
  without a fault to handle (private file mappings are not registered: write-protecting them leaves PTE
  markers that PAGEMAP_SCAN reports as swapped pages; their few COWed pages are written whole; nor are
  mlock()ed ones). The fds go to a holder process (engine/holder.py) until the next dump takes them: pages
  with PAGE_IS_WRITTEN (found and write-protected again in one call, PM_SCAN_WP_MATCHING |
  PM_SCAN_CHECK_WPASYNC) are written, the others are the parent's. A VMA not registered then (made or
  moved since: mremap resets the registration) and a process the holder does not know (forked since) are
  written whole. UFFD_FEATURE_WP_UNPOPULATED is not asked for: its markers on empty page table entries read
  as PAGE_IS_SWAPPED, which would make the page scan copy zero pages; without them a write into an empty
  entry makes a new, unprotected page, which reads as written all the same.
- ``soft-dirty``: /proc/PID/clear_refs (4) at the tracking dump, PAGE_IS_SOFT_DIRTY at the next (criu's
  way; kernels with CONFIG_MEM_SOFT_DIRTY).
- ``compare``: no kernel help: every page the parent also has is read and compared with the parent's copy;
  only differing pages are written (reads everything, writes only what changed; nothing is held between
  the commands).
"""

from __future__ import annotations

import fcntl
import json
import mmap
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine.abi import nr
from engine.abi.consts import (
    O_CLOEXEC,
    O_NONBLOCK,
    PAGE_IS_PRESENT,
    PAGE_IS_SOFT_DIRTY,
    PAGE_IS_WRITTEN,
    PM_SCAN_CHECK_WPASYNC,
    PM_SCAN_WP_MATCHING,
    UFFD_API,
    UFFD_FEATURE_WP_ASYNC,
    UFFD_FEATURE_WP_UNPOPULATED,
    UFFD_USER_MODE_ONLY,
    UFFDIO_API,
    UFFDIO_REGISTER,
    UFFDIO_REGISTER_MODE_WP,
    UFFDIO_WRITEPROTECT,
    UFFDIO_WRITEPROTECT_MODE_WP,
)
from engine.compel import memory, pidfd
from engine.compel.memory import Range, TaskMemory
from engine.errors import DumpError, UnsupportedError
from engine.images.pb import pagemap_pb2
from engine.images.reader import read_entries
from engine.log import log
from engine.native import PAGE_SIZE, ffi, lib
from engine.record import field, record

if TYPE_CHECKING:
    from engine.context import DumpContext
    from engine.task import Task

WAYS = ("uffd-wp", "soft-dirty", "compare")
WAY_ENV = "STASIS_TRACK_MEM"
RECORD = "stasis-memtrack.json"  # in a tracking dump's images: the holder and what each process registered
TAKE_TIMEOUT = 30.0  # seconds a holder may take to answer (it may still be starting on a loaded machine)
SOCKET_PREFIX = "stasis-memtrack-"  # + the tree's root pid + random: a holder's abstract socket
PE_PARENT, PE_LAZY, PE_PRESENT = 1, 2, 4
COMPARE = 1 << 30  # internal: PE_PRESENT pages the parent has too, to be compared before they are written


@record
class Tracked:
    """One process tracked by a userfaultfd (engine fds) and the VMAs registered with it."""

    pid: int
    uffd: int
    pidfd: int
    ranges: list[Range] = field(default_factory=list)


@record
class Track:
    """A dump's tracking state: the way, the parent's pages by pid, the processes tracked."""

    way: str = ""
    parent: Path | None = None
    parent_pages: dict[int, list[Range]] = field(default_factory=dict)  # image pid -> ranges
    tracked: dict[int, Tracked] = field(default_factory=dict)  # engine pid -> from the holder / armed now
    arm: bool = False  # this dump leaves tracking armed (a holder is started at its end)

    def registered(self, pid: int, start: int, end: int) -> bool:
        tr = self.tracked.get(pid)
        return tr is not None and any(s <= start and end <= e for s, e in tr.ranges)


# -- ways -------------------------------------------------------------------------------------------
_ways: dict[str, tuple[bool, str]] = {}


def probe(way: str) -> tuple[bool, str]:
    """(usable here, why): probed once on the engine itself."""
    if way not in _ways:
        _ways[way] = {"uffd-wp": _probe_uffd_wp, "soft-dirty": _probe_soft_dirty,
                      "compare": lambda: (True, "always")}[way]()
    return _ways[way]


def choose() -> tuple[str, str]:
    forced = os.environ.get(WAY_ENV, "")
    if forced:
        if forced not in WAYS:
            raise DumpError(f"{WAY_ENV}={forced}: expected one of {', '.join(WAYS)}")
        ok, why = probe(forced)
        if not ok:
            raise UnsupportedError(f"{WAY_ENV}={forced}: not on this kernel ({why})")
        return forced, f"{WAY_ENV}={forced}"
    for way in WAYS:
        ok, why = probe(way)
        if ok:
            return way, why
    return "compare", "always"  # pragma: no cover - compare is always there


def _uffd_features() -> int:
    """The features a userfaultfd of the engine's gets with the API handshake (0: no userfaultfd)."""
    fd = lib.st_syscall(nr.userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY, 0, 0, 0, 0, 0)
    if fd < 0:
        return 0
    try:
        arg = bytearray(struct.pack("<QQQ", UFFD_API, 0, 0))
        fcntl.ioctl(fd, UFFDIO_API, arg)
        return struct.unpack("<QQQ", arg)[1]
    except OSError:
        return 0
    finally:
        os.close(fd)


def wp_unpopulated() -> bool:
    return bool(_uffd_features() & UFFD_FEATURE_WP_UNPOPULATED)


def _probe_uffd_wp() -> tuple[bool, str]:
    if not memory.scan_path()[0]:
        return False, "no PAGEMAP_SCAN (6.7+) in use"
    if not _uffd_features() & UFFD_FEATURE_WP_ASYNC:
        return False, "no userfaultfd with UFFD_FEATURE_WP_ASYNC (6.7+)"
    with mmap.mmap(-1, 2 * PAGE_SIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS) as m:
        m[0] = m[PAGE_SIZE] = 1
        addr = int(ffi.cast("uintptr_t", ffi.from_buffer(m)))
        fd = _new_uffd_here()
        mem = TaskMemory(os.getpid())
        try:
            register(fd, addr, addr + 2 * PAGE_SIZE)
            writeprotect(fd, addr, addr + 2 * PAGE_SIZE)
            m[PAGE_SIZE] = 2
            got = written(mem, addr, addr + 2 * PAGE_SIZE, rearm=True)
            again = written(mem, addr, addr + 2 * PAGE_SIZE, rearm=False)
        except OSError as exc:
            return False, f"async uffd-wp: {exc}"
        finally:
            mem.close()
            os.close(fd)
    if got != [(addr + PAGE_SIZE, addr + 2 * PAGE_SIZE)] or again:
        return False, f"PAGE_IS_WRITTEN does not follow writes (got {got}, then {again})"
    return True, "PAGEMAP_SCAN with async userfaultfd write-protection"


def _probe_soft_dirty() -> tuple[bool, str]:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("4")
    except OSError as exc:
        return False, f"clear_refs: {exc.strerror}"
    with mmap.mmap(-1, PAGE_SIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS) as m:
        m[0] = 1
        addr = int(ffi.cast("uintptr_t", ffi.from_buffer(m)))
        with open("/proc/self/pagemap", "rb") as f:
            f.seek(addr // PAGE_SIZE * 8)
            entry = struct.unpack("<Q", f.read(8))[0]
    if not entry & (1 << 55):
        return False, "no soft-dirty bit in pagemap (CONFIG_MEM_SOFT_DIRTY)"
    return True, "soft-dirty bits (clear_refs)"


# -- userfaultfd ------------------------------------------------------------------------------------
def _new_uffd_here() -> int:
    fd = lib.st_syscall(nr.userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY, 0, 0, 0, 0, 0)
    if fd < 0:
        raise OSError(-fd, f"userfaultfd: {os.strerror(-fd)}")
    try:
        api(fd)
    except OSError:
        os.close(fd)
        raise
    return fd


def api(fd: int) -> None:
    arg = bytearray(struct.pack("<QQQ", UFFD_API, UFFD_FEATURE_WP_ASYNC, 0))
    fcntl.ioctl(fd, UFFDIO_API, arg)


def register(fd: int, start: int, end: int) -> None:
    fcntl.ioctl(fd, UFFDIO_REGISTER, bytearray(struct.pack("<QQQQ", start, end - start,
                                                           UFFDIO_REGISTER_MODE_WP, 0)))


def writeprotect(fd: int, start: int, end: int) -> None:
    fcntl.ioctl(fd, UFFDIO_WRITEPROTECT, bytearray(struct.pack("<QQQ", start, end - start,
                                                               UFFDIO_WRITEPROTECT_MODE_WP)))


def written(mem: TaskMemory, start: int, end: int, rearm: bool) -> list[Range]:
    """Pages written since they were write-protected; with `rearm` protected again in the same call."""
    flags = PM_SCAN_CHECK_WPASYNC | (PM_SCAN_WP_MATCHING if rearm else 0)
    return mem.scan_ioctl(start, end, 0, 0, flags=flags, require=PAGE_IS_WRITTEN)


# -- a dump's part ----------------------------------------------------------------------------------
def begin(ctx: DumpContext) -> Track:
    """Before any check: the parent's pages, the holder's fds (the holder ends, whatever this dump is),
    the `parent` link; the way this dump tracks."""
    opts = ctx.opts
    tr = Track()
    tr.arm = opts.track_mem and (opts.pre_dump or opts.leave_running)
    if opts.track_mem or opts.prev_images_dir:
        tr.way, why = choose()
        log.info("memory tracking: %s (%s)", tr.way, why)
    if opts.prev_images_dir:
        parent = Path(opts.images_dir) / opts.prev_images_dir
        if not (parent / "inventory.img").exists():
            raise DumpError(f"--prev-images-dir {opts.prev_images_dir}: no images at {parent}")
        tr.parent = parent
        link = Path(opts.images_dir) / "parent"
        if link.is_symlink() or link.exists():
            link.unlink()
        os.symlink(opts.prev_images_dir, link)  # as criu: the option's text, relative to the images dir
        held = _take_holder(parent)
        if opts.track_mem:
            for pid, ranges, uffd, pfd in held:
                tr.tracked[pid] = Tracked(pid, uffd, pfd, [(s, e) for s, e in ranges])
        else:
            for _, _, uffd, pfd in held:
                os.close(uffd)
                os.close(pfd)
    else:
        _end_strays(opts.tree)
    return tr


def _end_strays(root: int) -> None:
    """A dump without --prev-images-dir of a tree a tracking dump left armed: its holder is found by its
    socket's name (it names the root) and ended, so the registrations go before /proc is read."""
    from engine import holder

    try:
        with open("/proc/net/unix") as f:
            names = {line.split()[-1][1:] for line in f if f" @{SOCKET_PREFIX}{root}-" in line}
    except OSError:
        return
    for name in sorted(names):
        try:
            held = holder.take(name, timeout=1.0)
        except (OSError, ValueError):
            continue
        for _, _, uffd, pfd in held:
            os.close(uffd)
            os.close(pfd)
        log.info("memory tracking: ended holder %s (no --prev-images-dir: every page is written)", name)


def _take_holder(parent: Path) -> list[tuple[int, list[list[int]], int, int]]:
    from engine import holder

    rec = _read_record(parent)
    if not rec or not rec.get("socket"):
        return []
    try:
        held = holder.take(rec["socket"], timeout=TAKE_TIMEOUT)
    except (OSError, ValueError) as exc:
        log.warning("memory tracking: the holder of %s (pid %s) did not hand its fds over (%s): every page "
                    "is written", parent, rec.get("holder"), exc)
        _kill_holder(rec)
        return []
    _wait_gone(int(rec.get("holder", 0)))
    out = []
    for pid, ranges, uffd, pfd in held:
        if _pidfd_pid(pfd) != pid:  # that process exited since: its pid may be another's now
            os.close(uffd)
            os.close(pfd)
            continue
        out.append((pid, ranges, uffd, pfd))
    log.info("memory tracking: %d processes' userfaultfds taken from holder %s", len(out), rec.get("holder"))
    return out


def _kill_holder(rec: dict) -> None:
    """A holder that does not answer is never left behind: killed by its pid, if that pid still runs the
    holder of this socket."""
    pid = int(rec.get("holder", 0))
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
    except OSError:
        return
    if b"engine.holder" in cmdline and str(rec.get("socket", "")).encode() in cmdline:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
        _wait_gone(pid)


def _read_record(d: Path) -> dict | None:
    try:
        return json.loads((d / RECORD).read_text())
    except (OSError, ValueError):
        return None


def _pidfd_pid(fd: int) -> int:
    try:
        with open(f"/proc/self/fdinfo/{fd}") as f:
            for line in f:
                if line.startswith("Pid:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return -1


def _wait_gone(pid: int) -> None:
    """The holder exits once it has handed its fds over: wait for it (a short while) so that a caller
    checking for it right after this command does not see it."""
    import select

    if pid <= 0:
        return
    try:
        fd = pidfd.open_pidfd(pid)
    except OSError:
        return
    try:
        select.select([fd], [], [], 2.0)
    finally:
        os.close(fd)


def tracks(ctx: DumpContext, t: Task) -> bool:
    tr = ctx.mm.track
    return tr is not None and t.pid in tr.tracked


def check(ctx: DumpContext, t: Task) -> None:
    """A process that uses userfaultfd itself cannot be tracked by one of the engine's."""
    tr = ctx.mm.track
    if tr is None or not tr.arm or tr.way != "uffd-wp":
        return
    for fd in t.facts.fds:
        if fd.target == "anon_inode:[userfaultfd]":
            raise UnsupportedError(f"pid {t.pid} fd {fd.fd} (anon_inode:[userfaultfd]): --track-mem with "
                                   "userfaultfd write-protection cannot track a process that uses "
                                   "userfaultfd itself (STASIS_TRACK_MEM=compare can)")


def parent_pages(ctx: DumpContext, t: Task) -> list[Range]:
    """The pages the parent chain has for this process (its pagemap's entries, PE_PARENT ones included)."""
    tr = ctx.mm.track
    if tr is None or tr.parent is None:
        return []
    ipid = ctx.images.virtual_pids.get(t.pid, t.pid)
    if ipid not in tr.parent_pages:
        tr.parent_pages[ipid] = _pagemap_ranges(tr.parent / f"pagemap-{ipid}.img")
    return tr.parent_pages[ipid]


def _pagemap_ranges(path: Path) -> list[Range]:
    if not path.exists():
        return []
    out: list[Range] = []
    for e in read_entries(path, "PAGEMAP")[1:]:
        n = e.nr_pages if e.HasField("nr_pages") else e.compat_nr_pages
        if e.HasField("flags") and not e.flags & (PE_PRESENT | PE_PARENT):
            continue
        s = e.vaddr
        if out and out[-1][1] == s:
            out[-1] = (out[-1][0], s + n * PAGE_SIZE)
        else:
            out.append((s, s + n * PAGE_SIZE))
    out.sort()
    return out


def _intersect(a: list[Range], b: list[Range]) -> list[Range]:
    out: list[Range] = []
    i = j = 0
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _subtract(a: list[Range], b: list[Range]) -> list[Range]:
    out: list[Range] = []
    j = 0
    for s, e in a:
        while j < len(b) and b[j][1] <= s:
            j += 1
        k = j
        pos = s
        while k < len(b) and b[k][0] < e:
            if b[k][0] > pos:
                out.append((pos, b[k][0]))
            pos = max(pos, b[k][1])
            k += 1
        if pos < e:
            out.append((pos, e))
    return out


def classify(ctx: DumpContext, t: Task, v_start: int, v_end: int, uw: bool, present: list[Range],
             lazy: int) -> list[tuple[Range, int]]:
    """Pagemap entries for a VMA's pages with data: PE_PRESENT (written here) or PE_PARENT. `uw`: the VMA
    is registered for userfaultfd write-protection now (VmFlags uw)."""
    tr = ctx.mm.track
    whole = [(r, PE_PRESENT | lazy) for r in present]
    if tr is None or tr.parent is None or not present:
        return whole
    inpar = _intersect(present, [r for r in parent_pages(ctx, t) if r[1] > v_start and r[0] < v_end])
    if not inpar:
        return whole
    way = tr.way
    if way == "uffd-wp" and not (uw and tr.registered(t.pid, v_start, v_end)):
        # made, mapped again or moved since the parent, a file mapping, or a process forked since: no
        # tracking says what changed, the pages the parent has at these addresses are compared
        way = "compare"
    dirty: list[Range] = []
    if way == "soft-dirty":
        dirty = t.memory.scan(v_start, v_end, PAGE_IS_SOFT_DIRTY, 0)
    elif way == "uffd-wp":
        try:
            dirty = written(t.memory, v_start, v_end, rearm=tr.arm)
        except OSError as exc:  # EPERM: not (or no longer) async write-protected after all
            log.warning("pid %d: %#x-%#x: PAGEMAP_SCAN of written pages: %s: compared instead", t.pid,
                        v_start, v_end, exc)
            way = "compare"
    clean = _subtract(inpar, dirty)
    out = [(r, PE_PRESENT | lazy) for r in _subtract(present, clean)]
    flag = (PE_PRESENT | COMPARE) if way == "compare" else PE_PARENT
    out += [(r, flag | lazy) for r in clean]
    out.sort()
    return out


def arm(ctx: DumpContext, t: Task, vmas: list[tuple[int, int]]) -> None:
    """Leave this process's private writable anonymous VMAs write-protected (uffd-wp) or its soft-dirty bits
    cleared, for the next dump. Runs in the process's injection session, the tree frozen."""
    tr = ctx.mm.track
    if tr is None or not tr.arm:
        return
    if tr.way == "soft-dirty":
        with open(f"/proc/{t.pid}/clear_refs", "w") as f:
            f.write("4")
        return
    if tr.way != "uffd-wp":
        return
    cur = tr.tracked.get(t.pid)
    if cur is None:
        cur = tr.tracked[t.pid] = Tracked(t.pid, _uffd_of(t), pidfd.open_pidfd(t.pid))
    kept = [(s, e) for s, e in vmas if tr.registered(t.pid, s, e) and "uw" in _vmflags(t, s)]
    ranges: list[Range] = []
    for s, e in vmas:
        if (s, e) in kept:
            ranges.append((s, e))  # still registered; its written pages were protected again by the scan
            continue
        try:
            register(cur.uffd, s, e)
            writeprotect(cur.uffd, s, e)
        except OSError as exc:  # e.g. a private file mapping on a kernel without PTE markers
            log.debug("pid %d: %#x-%#x not tracked (%s): written whole next time", t.pid, s, e, exc)
            continue
        ranges.append((s, e))
    cur.ranges = _merge(ranges)


def _vmflags(t: Task, start: int) -> str:
    for v in t.facts.vmas:
        if v.start == start:
            return " ".join(v.vmflags)
    return ""


def _merge(ranges: list[Range]) -> list[Range]:
    out: list[Range] = []
    for s, e in sorted(ranges):
        if out and out[-1][1] == s:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _uffd_of(t: Task) -> int:
    """A userfaultfd made in the process (its mm is the one it tracks), taken out and closed there."""
    inj = t.injector
    fd = inj.raw(nr.userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY)
    if fd < 0:
        raise UnsupportedError(f"pid {t.pid}: --track-mem: userfaultfd() in the process failed: "
                               f"{os.strerror(-fd)}")
    try:
        mine = pidfd.getfd(t.pid, fd)
    finally:
        inj.call(nr.close, fd, what="close(userfaultfd)")
    try:
        api(mine)
    except OSError:
        os.close(mine)
        raise
    return mine


def finish(ctx: DumpContext, ok: bool) -> None:
    """After the dump: with tracking armed and the tree running, a holder keeps the fds; the engine's copies
    are closed either way (without a holder that ends the tracking: the kernel drops the registrations)."""
    tr = ctx.mm.track
    if tr is None:
        return
    try:
        if ok and tr.arm:
            _start_holder(ctx, tr)
    finally:
        for cur in tr.tracked.values():
            for fd in (cur.uffd, cur.pidfd):
                try:
                    os.close(fd)
                except OSError:
                    pass
        tr.tracked.clear()


def _start_holder(ctx: DumpContext, tr: Track) -> None:
    images = Path(ctx.opts.images_dir)
    rec: dict = {"way": tr.way}
    live = {t.pid for t in ctx.tasks if t.alive}
    for pid in [p for p in tr.tracked if p not in live]:  # left the tree since: not this tree's to track
        c = tr.tracked.pop(pid)
        os.close(c.uffd)
        os.close(c.pidfd)
    if tr.way == "uffd-wp" and tr.tracked:
        import socket

        name = f"{SOCKET_PREFIX}{ctx.opts.tree}-{os.urandom(6).hex()}"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind("\0" + name)
        sock.listen(1)
        tasks = [{"pid": c.pid, "uffd": c.uffd, "pidfd": c.pidfd, "ranges": c.ranges}
                 for c in tr.tracked.values()]
        spec = {"name": name, "sock": sock.fileno(), "tasks": tasks}
        fds = [sock.fileno(), *(x for c in tr.tracked.values() for x in (c.uffd, c.pidfd))]
        try:
            proc = subprocess.Popen([sys.executable, "-m", "engine.holder", json.dumps(spec)], pass_fds=fds,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True, cwd="/")
        finally:
            sock.close()
        rec.update(holder=proc.pid, socket=name,
                   tasks={str(c.pid): c.ranges for c in tr.tracked.values()})
        log.info("memory tracking: holder %d keeps %d userfaultfds (%s)", proc.pid, len(tr.tracked), name)
    (images / RECORD).write_text(json.dumps(rec) + "\n")


def end_holder(images_dir: str) -> None:
    """End the holder a tracking dump left in images_dir, if it is still there (its fds are closed)."""
    rec = _read_record(Path(images_dir))
    if rec and rec.get("socket"):
        try:
            from engine import holder

            for _, _, uffd, pfd in holder.take(rec["socket"], timeout=1.0):
                os.close(uffd)
                os.close(pfd)
        except (OSError, ValueError):
            pass
        _wait_gone(int(rec.get("holder", 0)))


# -- compare (no kernel help) -----------------------------------------------------------------------
def compare_out(ctx: DumpContext, t: Task, entries: list[tuple[Range, int]],
                read) -> list[tuple[Range, int]]:
    """Entries marked COMPARE: read from the process (`read(ranges, addr)`), compared with the parent
    chain's bytes; equal pages become PE_PARENT, the others PE_PRESENT."""
    if not any(fl & COMPARE for _, fl in entries):
        return entries
    from engine.objects import pagechain

    tr = ctx.mm.track
    assert tr is not None and tr.parent is not None
    ipid = ctx.images.virtual_pids.get(t.pid, t.pid)
    chain = pagechain.Chain(tr.parent, ipid)
    out: list[tuple[Range, int]] = []
    block = 4 << 20
    buf = mmap.mmap(-1, block)
    par = mmap.mmap(-1, block)
    try:
        here = int(ffi.cast("uintptr_t", ffi.from_buffer(buf)))
        there = int(ffi.cast("uintptr_t", ffi.from_buffer(par)))
        for (s, e), fl in entries:
            if not fl & COMPARE:
                out.append(((s, e), fl))
                continue
            lazy = fl & PE_LAZY
            for b in range(s, e, block):
                n = min(block, e - b)
                read([(b, b + n)], here)
                chain.read_into([(b, b + n)], there)
                pages = range(0, n, PAGE_SIZE)
                if buf[:n] == par[:n]:
                    pages = range(0, 0)
                    flag = PE_PARENT | lazy
                    if out and out[-1][1] == flag and out[-1][0][1] == b:
                        out[-1] = ((out[-1][0][0], b + n), flag)
                    else:
                        out.append(((b, b + n), flag))
                for p in pages:
                    same = buf[p:p + PAGE_SIZE] == par[p:p + PAGE_SIZE]
                    flag = (PE_PARENT if same else PE_PRESENT) | lazy
                    if out and out[-1][1] == flag and out[-1][0][1] == b + p:
                        out[-1] = ((out[-1][0][0], b + p + PAGE_SIZE), flag)
                    else:
                        out.append(((b + p, b + p + PAGE_SIZE), flag))
    finally:
        chain.close()
        buf.close()
        par.close()
    return out


def pagemap_entries(ranges: list[tuple[Range, int]]) -> list[pagemap_pb2.pagemap_entry]:
    return [pagemap_pb2.pagemap_entry(vaddr=s, compat_nr_pages=(e - s) // PAGE_SIZE, flags=fl,
                                      nr_pages=(e - s) // PAGE_SIZE) for (s, e), fl in ranges]


__all__ = ["PAGE_IS_PRESENT", "WAYS", "Track", "arm", "begin", "choose", "classify", "finish", "probe"]
