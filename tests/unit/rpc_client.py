"""A raw criu RPC client for the tests: `stasis swrk FD` on a socketpair, as runc and libcriu start it,
and NOTIFY round trips answered from a script. Run as a program (`python rpc_client.py JSON`) it is a
client process of its own, not a subreaper: what the engine gives it with rst_sibling is its child, and
it reports the restored process's parent and whether it could reap it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from engine.images.pb import criu_rpc_pb2 as rpc  # noqa: E402


class Swrk:
    """`stasis swrk N` as our child, N the engine's end of a SOCK_SEQPACKET socketpair."""

    def __init__(self, cwd: Path, pass_fds: tuple[int, ...] = (), stdout: Any = None) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = ours
        env = dict(os.environ)
        env.pop("STASIS_FAULT", None)
        self.out = cwd / "swrk.out"
        with open(os.devnull, "rb") as null, open(self.out, "wb") as o:
            self.proc = subprocess.Popen([sys.executable, "-m", "engine", "swrk", str(theirs.fileno())],
                                         cwd=REPO, env=env, stdin=null, stdout=stdout or o, stderr=o,
                                         pass_fds=(theirs.fileno(), *pass_fds))
        theirs.close()
        self.notified: list[tuple[str, int]] = []

    def send(self, req: Any) -> None:
        self.sock.send(req.SerializeToString())

    def send_raw(self, data: bytes) -> None:
        self.sock.send(data)

    def recv(self) -> Any:
        size = self.sock.recv_into(bytearray(1), 1, socket.MSG_PEEK | socket.MSG_TRUNC)
        data = self.sock.recv(max(size, 1))
        resp = rpc.criu_resp()
        resp.ParseFromString(data)
        return resp

    def call(self, req: Any, fail: str | None = None,
             on_notify: Callable[[str, Any], Any] | None = None) -> Any:
        """Send a request, acknowledge every NOTIFY (notify_success=false for the script `fail`), return
        the final response. on_notify(script, resp), if given, runs before each acknowledgement and may
        return the acknowledgement to send (a criu_req), e.g. with opts for query-ext-files."""
        self.send(req)
        while True:
            resp = self.recv()
            if resp.type != rpc.NOTIFY:
                return resp
            self.notified.append((resp.notify.script, resp.notify.pid))
            ack = on_notify(resp.notify.script, resp) if on_notify else None
            self.send(ack or rpc.criu_req(type=rpc.NOTIFY, notify_success=resp.notify.script != fail))

    def close(self, timeout: float = 60.0) -> int:
        self.sock.close()
        return self.proc.wait(timeout=timeout)

    def output(self) -> str:
        return self.out.read_text(errors="replace")


def opts(images_fd: int, **kw: Any) -> Any:
    o = rpc.criu_opts(images_dir_fd=images_fd, log_level=4)
    for k, v in kw.items():
        setattr(o, k, v)
    return o


def main() -> int:
    """JSON {images, log_file, sibling, join_ns: [[ns, ns_file]...], ns: [kind...], fail: script}: restore
    with NOTIFY (failing that script's),
    report the restored pid, its PPid, the notify sequence, its namespaces of the kinds joined or listed
    in ns, and whether waitpid() on
    it works here (it does only for a child)."""
    args = json.loads(sys.argv[1])
    fd = os.open(args["images"], os.O_RDONLY | os.O_DIRECTORY)
    cli = Swrk(Path(args["images"]))
    req = rpc.criu_req(type=rpc.RESTORE, opts=opts(fd, log_file=args["log_file"], notify_scripts=True,
                                                    rst_sibling=args["sibling"]))
    for ns, ns_file in args.get("join_ns", []):
        req.opts.join_ns.add(ns=ns, ns_file=ns_file)
    resp = cli.call(req, fail=args.get("fail"))
    rc = cli.close()
    out: dict[str, Any] = {"success": resp.success, "pid": resp.restore.pid, "errmsg": resp.cr_errmsg,
                           "rc": rc, "notified": cli.notified, "swrk_output": cli.output()}
    pid = resp.restore.pid
    if resp.success and pid > 0:
        with open(f"/proc/{pid}/status") as f:
            out["ppid"] = int(next(ln for ln in f if ln.startswith("PPid:")).split()[1])
        kinds = [ns for ns, _ in args.get("join_ns", [])] + args.get("ns", [])
        out["ns"] = {ns: os.stat(f"/proc/{pid}/ns/{ns}").st_ino for ns in kinds}
        if "uts" in args.get("ns", []):
            out["hostname"] = subprocess.run(["nsenter", f"--uts=/proc/{pid}/ns/uts", "hostname"],
                                             capture_output=True, text=True).stdout.strip()
        os.kill(pid, 9)
        try:
            os.waitpid(pid, 0)
            out["reaped"] = True
        except ChildProcessError:
            out["reaped"] = False
    out["me"] = os.getpid()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
