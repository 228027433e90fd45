"""One RPC session: criu_req datagrams in, criu_resp datagrams out, on a SOCK_SEQPACKET socket.

swrk: the socket is an fd the client (runc, podman's go-criu, libcriu, pycriu) handed down; one
operation, or a keep_open loop of VERSION / FEATURE_CHECK, then exit (0 after a successful final
response). The service (engine/rpc/service.py) runs the same session on each accepted connection,
with the swrk-only options (rst_sibling, inherit_fd) refused.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import struct
import sys
import time
from typing import Any

from engine import log as logmod
from engine.errors import StasisError, UnsupportedError
from engine.images.pb import criu_rpc_pb2 as rpc
from engine.log import CRITICAL, log
from engine.rpc import MAJOR, MINOR
from engine.rpc.options import (
    RpcError,
    cgroup_mode,
    cgroup_roots,
    check,
    dir_path,
    ext_mounts,
    ext_netns,
    join_ns,
    network_lock,
    peer_dir,
)
from engine.rpc.options import root as root_dir

KEEP_OPEN_TYPES = (rpc.VERSION, rpc.FEATURE_CHECK)
# features FEATURE_CHECK reports: memory tracking (pre-dumps), lazy pages, a pidfd store for
# incremental dumps. Stasis has none of them yet: runc then refuses --pre-dump / --lazy-pages cleanly.
FEATURES = {"mem_track": False, "lazy_pages": False, "pidfd_store": False}
# features without which `check` (criu check, CHECK) fails: no restore at all without them
ESSENTIAL = ("clone3_set_tid", "pagemap_scan")


class NotifyError(StasisError):
    """The RPC client failed a hook (notify_success false, another reply, or gone)."""


def _type_name(t: int) -> str:
    try:
        return str(rpc.criu_req_type.values_by_number[t].name)
    except KeyError:
        return str(t)


def peer_pid(sock: socket.socket) -> int:
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[0])


class Session:
    def __init__(self, sock: socket.socket, service: bool = False) -> None:
        self.sock = sock
        self.service = service
        self.peer = peer_pid(sock)
        self.notify_scripts = False
        self.restored_pid = -1
        self.fds: list[int] = []  # directory fds opened for a request
        self.dump_opts: Any = None  # a DUMP's options (query-ext-files' reply adds to them)

    # -- framing -----------------------------------------------------------------------------------

    def recv(self) -> Any | None:
        """The next request; None at EOF (the session is over)."""
        try:
            size = self.sock.recv_into(bytearray(1), 1, socket.MSG_PEEK | socket.MSG_TRUNC)
            if size == 0:
                self.sock.recv(1)
                return None
            data = self.sock.recv(size)
        except OSError as exc:  # reset, or the socket is gone: the session is over all the same
            log.warning("reading the next request: %s", exc)
            return None
        req = rpc.criu_req()
        try:
            req.ParseFromString(data)
        except Exception as exc:  # noqa: BLE001 - whatever the decoder raises: a bad request
            raise RpcError(errno.EBADMSG, f"cannot decode the request ({len(data)} bytes): {exc}") from None
        return req

    def send(self, resp: Any, fd: int = -1) -> bool:
        """One datagram; with fd, that fd attached (SCM_RIGHTS), as criu sends orphan-pts-master."""
        try:
            if fd < 0:
                self.sock.send(resp.SerializeToString())
            else:
                self.sock.sendmsg([resp.SerializeToString()],
                                  [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", fd))])
        except OSError as exc:
            log.error("cannot send the %s response: %s", _type_name(resp.type), exc)
            return False
        return True

    # -- the session -------------------------------------------------------------------------------

    def serve(self) -> int:
        """Requests until EOF or the end of an operation; the exit status to leave with."""
        rc = 1
        while True:
            try:
                req = self.recv()
            except RpcError as exc:
                self.send(_failure(rpc.EMPTY, exc.errno, str(exc)))
                return 1
            if req is None:
                return rc
            resp = self.handle(req)
            sent = self.send(resp)
            rc = 0 if (sent and resp.success) else 1
            if not (req.keep_open and req.type in KEEP_OPEN_TYPES):
                return rc

    def handle(self, req: Any) -> Any:
        kind = req.type
        t0 = time.monotonic()
        try:
            if req.keep_open and kind not in KEEP_OPEN_TYPES:
                raise RpcError(errno.EBADRQC, f"keep_open is only for VERSION and FEATURE_CHECK, not "
                                              f"{_type_name(kind)}")
            if kind == rpc.VERSION:
                return self._version()
            if kind == rpc.FEATURE_CHECK:
                return self._features(req)
            if kind == rpc.CHECK:
                return self._check(req)
            if kind == rpc.DUMP:
                return self._dump(req)
            if kind == rpc.RESTORE:
                return self._restore(req)
            if kind == rpc.EMPTY:
                raise RpcError(errno.EBADRQC, "unknown request type (or EMPTY)")
            if kind == rpc.NOTIFY:
                raise RpcError(errno.EBADRQC, "NOTIFY outside a notify round trip")
            raise RpcError(errno.EOPNOTSUPP, f"{_type_name(kind)} is not supported by stasis "
                                             "(VERSION, FEATURE_CHECK, CHECK, DUMP, RESTORE are)")
        except RpcError as exc:
            return self._failed(kind, exc.errno, str(exc))
        except NotifyError as exc:
            return self._failed(kind, errno.ECANCELED, str(exc))
        except UnsupportedError as exc:
            return self._failed(kind, errno.EOPNOTSUPP, str(exc))
        except StasisError as exc:
            msg = str(exc)
            err = errno.EEXIST if ("is in use" in msg or "File exists" in msg) else errno.EIO
            return self._failed(kind, err, msg)
        except Exception as exc:  # a bug or an unexpected system error: an answer anyway, the trace logged
            log.exception("internal error")
            return self._failed(kind, errno.EINVAL, f"internal error: {exc}")
        finally:
            log.debug("%s served in %.3f s", _type_name(kind), time.monotonic() - t0)
            for fd in self.fds:
                os.close(fd)
            self.fds.clear()

    def _failed(self, kind: int, err: int, msg: str) -> Any:
        # the reason, in the log runtimes quote (runc quotes lines with "Error", crun greps "Error ")
        log.log(CRITICAL, "Error (stasis %s): %s", _type_name(kind).lower(), msg)
        resp = _failure(kind, err, msg)
        if kind == rpc.RESTORE:
            resp.restore.pid = -1
        return resp

    # -- requests ----------------------------------------------------------------------------------

    def _version(self) -> Any:
        from engine import __version__

        resp = rpc.criu_resp(type=rpc.VERSION, success=True)
        resp.version.major_number = MAJOR
        resp.version.minor_number = MINOR
        resp.version.name = f"stasis {__version__}"
        return resp

    def _features(self, req: Any) -> Any:
        resp = rpc.criu_resp(type=rpc.FEATURE_CHECK, success=True)
        for name, value in FEATURES.items():
            setattr(resp.features, name, value)
        if req.HasField("features"):
            asked = [f.name for f, v in req.features.ListFields() if v]
            log.info("feature check: %s", ", ".join(f"{n}={FEATURES[n]}" for n in asked) or "nothing asked")
        return resp

    def _check(self, req: Any) -> Any:
        if req.HasField("opts"):
            self._setup(req.opts, "check", images=False)
        from engine.check import FEATURES as CHECKS

        missing = []
        for f in CHECKS:
            ok = f.probe()
            log.info("check: %s %s", "yes" if ok else "NO ", f.name)
            if not ok:
                missing.append(f.name)
                log.warning("%s missing (%s): %s", f.name, f.what, f.cost)
        bad = [m for m in missing if m in ESSENTIAL]
        if bad:
            raise RpcError(errno.ENOTSUP, f"the kernel lacks what restore needs: {', '.join(bad)}")
        return rpc.criu_resp(type=rpc.CHECK, success=True)

    def _setup(self, opts: Any, kind: str, images: bool = True) -> str:
        """Work dir, log, option checks; the images dir's path."""
        if opts.HasField("log_file") and "/" in opts.log_file:
            raise RpcError(errno.EBADRQC, f"log_file {opts.log_file!r}: no '/' allowed (it is relative "
                                          "to the work dir)")
        image_dir = ""
        if images:
            if opts.images_dir_fd >= 0:
                dfd = peer_dir(self.peer, opts.images_dir_fd, "images_dir_fd")
                self.fds.append(dfd)
                image_dir = dir_path(dfd)
            elif opts.images_dir:
                image_dir = opts.images_dir
            else:
                raise RpcError(errno.EBADRQC, "no images dir: images_dir_fd is -1 (or missing) and no "
                                              "images_dir")
        work = image_dir
        if opts.HasField("work_dir_fd") and opts.work_dir_fd >= 0:
            wfd = peer_dir(self.peer, opts.work_dir_fd, "work_dir_fd")
            self.fds.append(wfd)
            work = dir_path(wfd)
        if work:
            os.chdir(work)  # as criu: relative paths of the request are the work dir's
        if opts.log_to_stderr:
            log.close()
            log.setLevel(logmod.LEVELS.get(max(0, min(opts.log_level, 4)), logmod.DEBUG))
            log.out, log.max_level = _STDERR or sys.stderr, CRITICAL + 1
        elif opts.HasField("log_file") and opts.log_file:
            path = os.path.join(work or ".", opts.log_file)
            try:
                logmod.setup(path, opts.log_level)
            except OSError as exc:
                raise RpcError(errno.EBADRQC, f"log_file {path}: {exc.strerror}") from None
        from engine import __version__

        log.info("stasis %s: RPC %s from pid %d%s", __version__, kind, self.peer,
                 " (service)" if self.service else "")
        check(opts, kind, self.service)
        self.notify_scripts = bool(opts.notify_scripts)
        return image_dir

    def _notify(self, script: str, pid: int, fd: int = -1) -> Any:
        """The hook sent to the client; its acknowledgement (None without notify_scripts)."""
        if not self.notify_scripts:
            return None
        resp = rpc.criu_resp(type=rpc.NOTIFY, success=True)
        resp.notify.script = script
        if script in ("post-restore", "setup-namespaces"):
            resp.notify.pid = pid
        log.info("notify: %s%s", script, f" (pid {pid})" if resp.notify.HasField("pid") else "")
        if not self.send(resp, fd):
            raise NotifyError(f"{script}: cannot send the notify to the RPC client")
        try:
            ack = self.recv()
        except RpcError as exc:
            raise NotifyError(f"{script}: bad reply from the RPC client: {exc}") from None
        if ack is None:
            raise NotifyError(f"{script}: the RPC client closed the connection instead of acknowledging")
        if ack.type != rpc.NOTIFY:
            raise NotifyError(f"{script}: the RPC client replied with {_type_name(ack.type)}, not NOTIFY")
        if not ack.notify_success:
            raise NotifyError(f"{script}: the RPC client reported a script error")
        return ack

    def _hook(self, script: str, pid: int) -> None:
        if script == "post-restore":
            self.restored_pid = pid
        ack = self._notify(script, pid)
        if script == "query-ext-files" and ack is not None:
            self._ext_files(ack)

    def _ext_files(self, ack: Any) -> None:
        """criu's query-ext-files: the reply's opts.external are added to the dump's (criu's add_external).
        Stasis knows external mounts, veths and network namespaces (as --external); others are refused."""
        if not ack.HasField("opts") or not len(ack.opts.external):
            log.info("query-ext-files: no external resources in the reply")
            return
        o = self.dump_opts
        assert o is not None
        for spec in ack.opts.external:
            log.info("query-ext-files: adding the external resource %s", spec)
            m = re.fullmatch(r"(mnt|net|veth)\[([^\]]+)\](?::(.+))?", spec)
            if m is None or (m[1] != "veth" and not m[3]):
                raise UnsupportedError(f"query-ext-files: external {spec}: stasis knows mnt[PATH]:KEY, "
                                       "net[INODE]:KEY and veth[IFNAME] external resources, not this one")
            if m[1] == "mnt":
                o.ext_mounts = (*o.ext_mounts, (m[2], m[3]))
            elif m[1] == "veth":
                o.ext_veths = (*o.ext_veths, m[2])
            elif m[2].isdigit():
                o.ext_netns = (*o.ext_netns, (int(m[2]), m[3]))
            else:
                raise UnsupportedError(f"query-ext-files: external {spec}: net[...] takes a namespace's "
                                       "inode")

    def _orphan_master(self, fd: int) -> None:
        """A restored pty slave's new master (its old one was the runtime's: a container's console)."""
        if not self.notify_scripts:
            raise NotifyError("orphan-pts-master: a pty slave of the tree had its master outside it, and "
                              "without notify_scripts its new master cannot be handed to the RPC client")
        self._notify("orphan-pts-master", 0, fd)

    def _dump(self, req: Any) -> Any:
        if not req.HasField("opts"):
            raise RpcError(errno.EBADRQC, "DUMP without opts (images_dir_fd is required)")
        opts = req.opts
        images = self._setup(opts, "dump")
        pid = opts.pid if opts.HasField("pid") else self.peer
        if pid <= 0 or not os.path.exists(f"/proc/{pid}"):
            raise RpcError(errno.ESRCH, f"no process {pid} to dump")
        from engine.context import DumpOptions, Stats
        from engine.dump import dump
        from engine.images.pb import stats_pb2

        self.dump_opts = DumpOptions(
            root=root_dir(opts, "dump"), ext_mounts=ext_mounts(opts, "dump"), tree=pid, images_dir=images,
            leave_running=opts.leave_running, shell_job=opts.shell_job, timeout=float(opts.timeout or 10),
            file_locks=opts.file_locks, ghost_limit=opts.ghost_limit,
            tcp_established=opts.tcp_established or opts.tcp_close, tcp_close=opts.tcp_close,
            skip_in_flight=opts.tcp_skip_in_flight, ext_unix_sk=opts.ext_unix_sk,
            network_lock=network_lock(opts), notify=self._hook, ext_netns=ext_netns(opts, "dump"),
            manage_cgroups=cgroup_mode(opts), stats=Stats(),
            unprivileged=opts.unprivileged)
        dump(self.dump_opts)
        s = self.dump_opts.stats
        if os.path.samefile(".", images):  # the work dir is the images dir: their digests are final
            log.info("stats-dump not written: the work dir is the images dir (give work_dir_fd, as runc "
                     "--work-path and podman do)")
        else:
            _write_stats("stats-dump", stats_pb2.stats_entry(dump=stats_pb2.dump_stats_entry(
                freezing_time=s.freezing_time, frozen_time=s.frozen_time, memdump_time=s.memdump_time,
                memwrite_time=s.memwrite_time, pages_scanned=s.pages_scanned, pages_skipped_parent=0,
                pages_written=s.pages_written, pages_lazy=0)))
        log.info("dump of %d done", pid)
        resp = rpc.criu_resp(type=rpc.DUMP, success=True)
        resp.dump.SetInParent()
        return resp

    def _restore(self, req: Any) -> Any:
        if not req.HasField("opts"):
            raise RpcError(errno.EBADRQC, "RESTORE without opts (images_dir_fd is required)")
        opts = req.opts
        images = self._setup(opts, "restore")
        inherit = []
        for e in opts.inherit_fd:
            try:
                os.fstat(e.fd)
            except OSError:
                raise RpcError(errno.EBADRQC, f"inherit_fd {e.key}: fd {e.fd} is not open in the engine "
                                              "(it must be inherited across exec)") from None
            inherit.append((e.fd, e.key))
        joins = join_ns(opts, "restore")
        ext_netns(opts, "restore")
        from engine.context import RestoreOptions, Stats
        from engine.images.pb import stats_pb2
        from engine.restore import restore

        self.restored_pid = -1
        stats = Stats()
        restore(RestoreOptions(root=root_dir(opts, "restore"), ext_mounts=ext_mounts(opts, "restore"),
                               stats=stats, images_dir=images, detached=True, shell_job=opts.shell_job,
                               tcp_established=opts.tcp_established, tcp_close=opts.tcp_close,
                               ext_unix_sk=opts.ext_unix_sk, network_lock=network_lock(opts),
                               inherit_fds=tuple(inherit), sibling=opts.rst_sibling, notify=self._hook,
                               join_ns=joins, manage_cgroups=cgroup_mode(opts),
                               cgroup_roots=cgroup_roots(opts),
                               orphan_pts_master=self._orphan_master if opts.orphan_pts_master else None,
                               unprivileged=opts.unprivileged))
        log.info("restore done: root pid %d", self.restored_pid)
        _write_stats("stats-restore", stats_pb2.stats_entry(restore=stats_pb2.restore_stats_entry(
            pages_compared=0, pages_skipped_cow=0, forking_time=stats.forking_time,
            restore_time=stats.restore_time)))
        resp = rpc.criu_resp(type=rpc.RESTORE, success=True)
        resp.restore.pid = self.restored_pid
        return resp


STATS_MAGICS = (0x55105940, 0x57093306)  # criu's image magics of stats-dump / stats-restore


def _write_stats(name: str, entry: Any) -> None:
    """criu's stats-dump / stats-restore in the work dir (the cwd here): podman reads them (--print-stats)
    and puts stats-dump in its export. A file that cannot be written is only logged."""
    data = entry.SerializeToString()
    try:
        with open(name, "wb") as f:
            f.write(struct.pack("<III", *STATS_MAGICS, len(data)) + data)
    except OSError as exc:
        log.warning("%s: %s", name, exc.strerror)


MAX_ERRMSG = 2048  # go-criu reads responses into 8 KiB: a long reason is cut (the log has it whole)


def _failure(kind: int, err: int, msg: str) -> Any:
    if len(msg) > MAX_ERRMSG:
        msg = msg[:MAX_ERRMSG - 20] + " ... (see the log)"
    resp = rpc.criu_resp(success=False, cr_errno=err, cr_errmsg=msg)
    resp.type = kind  # type: ignore[assignment]  # an enum's number
    if kind == rpc.RESTORE:
        resp.restore.pid = -1
    return resp


_STDERR: Any = None  # fd 2 as it came (log_to_stderr writes there)


def quiet_stdio() -> None:
    """fds 0-2 closed by the client (pycriu does): /dev/null on them, so no file of ours lands there.
    Python's sys.stdout and sys.stderr go to /dev/null: during a restore fds 1 and 2 are the
    container's, and no engine code (a progress line, a stray print) may write there."""
    global _STDERR
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    _STDERR = open(2, "w", closefd=False)  # noqa: SIM115 - lives as long as the process
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115


def swrk(argv: list[str]) -> int:
    """`swrk FD`, exactly (criu's argv)."""
    quiet_stdio()
    log.close()  # no log until a request names one: stdout and stderr may be the container's
    if len(argv) != 1 or not argv[0].isdigit():
        _usage("Usage: criu swrk <fd>\n")
        return 1
    fd = int(argv[0])
    try:
        sock = socket.socket(fileno=fd)
    except OSError as exc:
        _usage(f"swrk: fd {fd}: {exc.strerror}\n")
        return 1
    if sock.family != socket.AF_UNIX or sock.type != socket.SOCK_SEQPACKET:
        _usage(f"swrk: fd {fd} is not an AF_UNIX SOCK_SEQPACKET socket\n")
        return 1
    sock.set_inheritable(False)  # restored tasks must not get it
    try:
        return Session(sock).serve()
    finally:
        log.close()


def _usage(text: str) -> None:
    """A wrong command line: the one case where stderr is ours (no session has begun)."""
    try:
        os.write(2, text.encode())
    except OSError:
        pass
