"""criu's RPC interface: `stasis swrk FD` driven by pycriu (criu's own Python client, from Debian's criu
package) and by a raw socketpair client (NOTIFY round trips, rst_sibling, framing errors); `stasis
service --address PATH` serving several requests, and what a request costs there against a fresh
`stasis dump`."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rpc_client import Swrk, opts, rpc

from conftest import REPO, Snapshot, Spawner, Target, alive, assert_untouched, needs_root, stasis

DIST = "/usr/lib/python3/dist-packages"


def _pycriu() -> Any:
    sys.path.append(DIST)
    try:
        import pycriu
    except ImportError:
        return None
    finally:
        sys.path.remove(DIST)
    return pycriu


pycriu = _pycriu()
needs_pycriu = pytest.mark.skipif(pycriu is None, reason="pycriu (Debian's criu package) is not installed")

SLEEPER = "import time\nprint('ready', flush=True)\ntime.sleep(300)\n"


@pytest.fixture
def criu_bin(tmp_path: Path) -> Path:
    """The `stasis-criu` entry point of this environment, or a stand-in that runs the same main."""
    installed = Path(sys.executable).parent / "stasis-criu"
    if installed.exists():
        return installed
    shim = tmp_path / "stasis-criu"
    shim.write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(REPO)!r})\n"
                    "from engine.criu import main\nmain()\n")
    shim.chmod(0o755)
    return shim


def client(criu_bin: Path) -> Any:
    c = pycriu.criu()
    c.use_binary(str(criu_bin))
    return c


def images(tmp_path: Path, name: str = "img") -> tuple[Path, int]:
    d = tmp_path / name
    d.mkdir()
    return d, os.open(d, os.O_RDONLY | os.O_DIRECTORY)


def sleeper(spawn: Spawner) -> Target:
    return spawn([sys.executable, "-c", SLEEPER], lambda t: "ready" in t.out.read_text(), name="sleeper")


# -- pycriu ----------------------------------------------------------------------------------------

@needs_pycriu
def test_pycriu_version_and_check(criu_bin: Path) -> None:
    c = client(criu_bin)
    resp = c._send_req_and_recv_resp(pycriu.rpc.criu_req(type=pycriu.rpc.VERSION))
    assert resp.success and resp.type == pycriu.rpc.VERSION
    assert (resp.version.major_number, resp.version.minor_number) == (4, 2)
    assert not resp.version.HasField("gitid")  # go-criu would add 100 to the number for one
    assert resp.version.name.startswith("stasis ")
    c.check()  # raises on success=false


@needs_root
@needs_pycriu
def test_pycriu_dump_and_restore(criu_bin: Path, spawn: Spawner, tmp_path: Path) -> None:
    t = spawn.python()
    d, fd = images(tmp_path)
    c = client(criu_bin)
    c.opts.images_dir_fd = fd
    c.opts.pid = t.pid
    c.opts.log_file = "dump.log"
    c.opts.log_level = 4
    c.dump()
    t.reap_dumped()
    assert (d / "inventory.img").exists()
    assert "dump of" in (d / "dump.log").read_text()
    n = t.count()
    c.opts.ClearField("pid")
    c.opts.log_file = "restore.log"
    resp = c.restore()
    assert resp.pid == t.pid
    t.wait_count(n + 3)
    log = (d / "restore.log").read_text()
    assert f"restore done: root pid {t.pid}" in log, log


@needs_pycriu
def test_pycriu_feature_check_keep_open(criu_bin: Path) -> None:
    c = client(criu_bin)
    req = pycriu.rpc.criu_req(type=pycriu.rpc.FEATURE_CHECK, keep_open=True)
    req.features.mem_track = True
    resp = c._send_req_and_recv_resp(req)
    assert resp.success and resp.type == pycriu.rpc.FEATURE_CHECK
    assert resp.features.HasField("mem_track") and not resp.features.mem_track  # no pre-dumps yet
    assert resp.features.HasField("lazy_pages") and not resp.features.lazy_pages
    resp = c._send_req_and_recv_resp(pycriu.rpc.criu_req(type=pycriu.rpc.VERSION))  # same session
    assert resp.success and resp.version.major_number == 4  # (pycriu waited for the swrk process)


@needs_pycriu
def test_pycriu_bad_log_file(criu_bin: Path, tmp_path: Path) -> None:
    _, fd = images(tmp_path)
    c = client(criu_bin)
    c.opts.images_dir_fd = fd
    c.opts.pid = os.getpid()
    c.opts.log_file = "sub/dump.log"
    with pytest.raises(pycriu.CRIUExceptionExternal) as exc:
        c.dump()
    assert exc.value.errno == errno.EBADRQC


@needs_pycriu
def test_pycriu_missing_pid(criu_bin: Path, tmp_path: Path) -> None:
    d, fd = images(tmp_path)
    c = client(criu_bin)
    c.opts.images_dir_fd = fd
    c.opts.pid = _free_pid()
    c.opts.log_file = "dump.log"
    with pytest.raises(pycriu.CRIUExceptionExternal) as exc:
        c.dump()
    assert exc.value.errno == errno.ESRCH
    assert f"Error (stasis dump): no process {c.opts.pid}" in (d / "dump.log").read_text()


@needs_root
@needs_pycriu
def test_pycriu_taken_pid(criu_bin: Path, spawn: Spawner, tmp_path: Path) -> None:
    t = sleeper(spawn)
    d, fd = images(tmp_path)
    c = client(criu_bin)
    c.opts.images_dir_fd = fd
    c.opts.pid = t.pid
    c.opts.leave_running = True
    c.opts.log_file = "dump.log"
    c.dump()
    assert alive(t.pid)
    c.opts.ClearField("pid")
    c.opts.log_file = "restore.log"
    with pytest.raises(pycriu.CRIUExceptionExternal) as exc:
        c.restore()
    assert exc.value.errno == errno.EEXIST
    assert f"pid {t.pid} is in use" in (d / "restore.log").read_text()
    assert alive(t.pid)


def _free_pid() -> int:
    pid = 4_000_000
    while os.path.exists(f"/proc/{pid}"):
        pid -= 1
    return pid


# -- raw client: framing, errors ---------------------------------------------------------------------

def test_unknown_type_and_garbage(tmp_path: Path) -> None:
    cli = Swrk(tmp_path)
    cli.send_raw(b"\x08\x17")  # type 23: no such request type
    resp = cli.recv()
    assert resp.type == rpc.EMPTY and not resp.success
    assert cli.close() == 1
    assert cli.output() == ""
    cli = Swrk(tmp_path)
    cli.send_raw(b"\xff\xff\xff\xff")
    resp = cli.recv()
    assert resp.type == rpc.EMPTY and not resp.success and resp.cr_errmsg
    assert cli.close() == 1


def test_versions_as_runtimes_send_them(tmp_path: Path) -> None:
    for raw in (b"\x08\x0a", rpc.criu_req(type=rpc.VERSION, opts=rpc.criu_opts(images_dir_fd=0))
                .SerializeToString()):  # go-criu/runc (type only), libcriu (opts{images_dir_fd: 0})
        cli = Swrk(tmp_path)
        cli.send_raw(raw)
        resp = cli.recv()
        assert resp.success and resp.version.major_number == 4
        assert cli.close() == 0  # exit 0 after a successful final response
        assert cli.output() == ""


def test_eof_ends_the_session(tmp_path: Path) -> None:
    cli = Swrk(tmp_path)
    assert cli.close(timeout=30) == 1  # nothing served


def test_dump_without_opts_and_refused_options(tmp_path: Path) -> None:
    cli = Swrk(tmp_path)
    resp = cli.call(rpc.criu_req(type=rpc.DUMP))
    assert not resp.success and resp.cr_errno == errno.EBADRQC and "opts" in resp.cr_errmsg
    assert cli.close() == 1
    d, fd = images(tmp_path)
    cli = Swrk(tmp_path, pass_fds=(fd,))
    o = opts(fd, pid=os.getpid(), log_file="dump.log", lazy_pages=True, empty_ns=0x20000000,
             auto_ext_mnt=True)
    resp = cli.call(rpc.criu_req(type=rpc.DUMP, opts=o))
    assert not resp.success and resp.cr_errno == errno.EBADRQC
    for name in ("lazy_pages", "empty_ns", "auto_ext_mnt"):
        assert name in resp.cr_errmsg, resp.cr_errmsg
    log = (d / "dump.log").read_text()
    assert "Error (stasis dump): " in log and "auto_ext_mnt" in log  # where runc and crun quote it from
    assert cli.close() == 1
    assert cli.output() == ""


def test_unsupported_request_type(tmp_path: Path) -> None:
    cli = Swrk(tmp_path)
    resp = cli.call(rpc.criu_req(type=rpc.PRE_DUMP, opts=rpc.criu_opts(images_dir_fd=-1)))
    assert resp.type == rpc.PRE_DUMP and not resp.success and resp.cr_errno == errno.EOPNOTSUPP
    assert "PRE_DUMP" in resp.cr_errmsg
    assert cli.close() == 1


# -- raw client: NOTIFY and rst_sibling ---------------------------------------------------------------

def _dump(tmp_path: Path, t: Target, fail: str | None = None, **kw: Any) -> tuple[Any, Swrk, Path]:
    d = tmp_path / "img"
    d.mkdir(exist_ok=True)
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        cli = Swrk(tmp_path)  # images_dir_fd is ours: the engine finds it through /proc/<peer>/fd
        kw.setdefault("notify_scripts", True)
        resp = cli.call(rpc.criu_req(type=rpc.DUMP, opts=opts(fd, pid=t.pid, log_file="dump.log", **kw)),
                        fail=fail)
    finally:
        os.close(fd)
    return resp, cli, d


@needs_root
def test_notify_round_trips(spawn: Spawner, tmp_path: Path) -> None:
    t = spawn.python()
    resp, cli, d = _dump(tmp_path, t)
    assert resp.success, resp.cr_errmsg
    assert [s for s, _ in cli.notified] == ["pre-dump", "query-ext-files", "post-dump"]  # criu's order
    assert cli.close() == 0
    assert cli.output() == ""
    t.reap_dumped()
    n = t.count()
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    cli = Swrk(tmp_path)
    resp = cli.call(rpc.criu_req(type=rpc.RESTORE, opts=opts(fd, log_file="restore.log",
                                                             notify_scripts=True)))
    os.close(fd)
    assert resp.success, resp.cr_errmsg
    assert [s for s, _ in cli.notified] == ["pre-restore", "post-restore", "pre-resume", "post-resume"]
    assert dict(cli.notified)["post-restore"] == resp.restore.pid == t.pid
    assert cli.close() == 0
    assert cli.output() == ""  # nothing on the engine's stdout/stderr (the container's, for runc)
    t.wait_count(n + 3)


@needs_root
def test_failed_post_dump_resumes_the_tree(spawn: Spawner, tmp_path: Path) -> None:
    t = spawn.python()
    before = Snapshot.take(t.pid)
    resp, cli, d = _dump(tmp_path, t, fail="post-dump")
    assert not resp.success and resp.cr_errno == errno.ECANCELED
    assert "post-dump" in resp.cr_errmsg
    assert cli.close() == 1
    assert "Error (stasis dump): post-dump" in (d / "dump.log").read_text()
    assert_untouched(t, before)


@needs_root
def test_no_notify_without_notify_scripts(spawn: Spawner, tmp_path: Path) -> None:
    t = spawn.python()
    resp, cli, _ = _dump(tmp_path, t, leave_running=True, notify_scripts=False)
    assert resp.success and cli.notified == []
    assert cli.close() == 0
    assert alive(t.pid)


@needs_root
@pytest.mark.parametrize("sibling", [True, False])
def test_rst_sibling(spawn: Spawner, tmp_path: Path, sibling: bool) -> None:
    """The client is a process of its own (not a subreaper): with rst_sibling the restored root is its
    child, without it the root goes to the nearest subreaper (pytest) once the engine exits."""
    t = spawn.python()
    resp, cli, d = _dump(tmp_path, t)
    assert resp.success and cli.close() == 0
    t.reap_dumped()
    res = subprocess.run([sys.executable, str(Path(__file__).with_name("rpc_client.py")),
                          json.dumps({"images": str(d), "log_file": "restore.log", "sibling": sibling})],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["success"], out
    assert out["pid"] == t.pid and out["rc"] == 0 and out["swrk_output"] == ""
    if sibling:
        assert out["ppid"] == out["me"] and out["reaped"], out
    else:
        assert out["ppid"] != out["me"] and not out["reaped"], out
        spawn.pids.append(t.pid)  # ours (the subreaper's) now: killed and reaped at teardown


@needs_root
def test_rst_sibling_join_ns(spawn: Spawner, tmp_path: Path) -> None:
    """runc's restore: rst_sibling with join_ns (a uts namespace the runtime names by path): the root is the
    client's child and in that namespace."""
    t = spawn.python()
    resp, cli, d = _dump(tmp_path, t)
    assert resp.success and cli.close() == 0
    t.reap_dumped()
    holder = subprocess.Popen(["unshare", "--uts", "--fork", "--kill-child", "sh", "-c", "echo $$ && read x"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        hpid = int(holder.stdout.readline())
        path = f"/proc/{hpid}/ns/uts"
        res = subprocess.run([sys.executable, str(Path(__file__).with_name("rpc_client.py")),
                              json.dumps({"images": str(d), "log_file": "restore.log", "sibling": True,
                                          "join_ns": [["uts", path]]})],
                             capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        out = json.loads(res.stdout)
        assert out["success"], out
        assert out["ppid"] == out["me"] and out["reaped"], out
        assert out["ns"] == {"uts": os.stat(path).st_ino}, out
    finally:
        if holder.stdin:
            holder.stdin.close()
        holder.wait(timeout=10)
        if holder.stdout:
            holder.stdout.close()


@needs_root
def test_rst_sibling_into_new_namespaces(spawn: Spawner, tmp_path: Path) -> None:
    """runc's restore of a container: rst_sibling for a tree with namespaces of its own (here uts and ipc):
    the root is created in new ones as the client's child (CLONE_PARENT with them), its hostname back, and
    the client is notified of the namespaces as criu does it."""
    code = "import socket, time\nprint(socket.gethostname(), flush=True)\ntime.sleep(300)\n"
    t = spawn(["unshare", "--uts", "--ipc", "sh", "-c", f"hostname stasis-sib && exec python3 -c '{code}'"],
              lambda t: "stasis-sib" in t.lines(), name="ns")
    resp, cli, d = _dump(tmp_path, t)
    assert resp.success and cli.close() == 0, (d / "dump.log").read_text()
    t.reap_dumped()
    res = subprocess.run([sys.executable, str(Path(__file__).with_name("rpc_client.py")),
                          json.dumps({"images": str(d), "log_file": "restore.log", "sibling": True,
                                      "ns": ["uts", "ipc"]})],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["success"], (out, (d / "restore.log").read_text())
    assert out["pid"] == t.pid and out["ppid"] == out["me"] and out["reaped"], out
    for kind in ("uts", "ipc"):
        assert out["ns"][kind] != os.stat(f"/proc/self/ns/{kind}").st_ino, out
    assert out["hostname"] == "stasis-sib", out
    # criu's order: the namespace hooks (only for a tree with namespaces of its own), setup-namespaces with
    # the root's pid (runc runs the OCI prestart hooks there)
    assert [s for s, _ in out["notified"]] == ["pre-restore", "setup-namespaces", "post-setup-namespaces",
                                               "post-restore", "pre-resume", "post-resume"], out
    assert dict(out["notified"])["setup-namespaces"] == t.pid, out


@needs_root
@pytest.mark.parametrize("script", ["setup-namespaces", "post-setup-namespaces"])
def test_failed_namespace_hook_leaves_nothing(spawn: Spawner, tmp_path: Path, script: str) -> None:
    """A runtime that fails a namespace hook (runc: an OCI prestart hook that fails): the restore is
    refused with that reason, and the root created as the client's child in new namespaces is gone."""
    t = spawn(["unshare", "--uts", "python3", "-c", SLEEPER], lambda t: "ready" in t.lines(), name="ns")
    resp, cli, d = _dump(tmp_path, t)
    assert resp.success and cli.close() == 0, (d / "dump.log").read_text()
    t.reap_dumped()
    res = subprocess.run([sys.executable, str(Path(__file__).with_name("rpc_client.py")),
                          json.dumps({"images": str(d), "log_file": "restore.log", "sibling": True,
                                      "fail": script})],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert not out["success"] and out["pid"] == -1 and script in out["errmsg"], out
    assert [s for s, _ in out["notified"]][-1] == script, out
    spawn.pids.append(t.pid)  # a zombie of the client's, ours (the subreaper's) once it exited
    assert not alive(t.pid), "the restored root is still alive"


# -- the service --------------------------------------------------------------------------------------

@pytest.fixture
def service(tmp_path: Path) -> Iterator[Path]:
    sock = tmp_path / "stasis.sock"
    env = dict(os.environ)
    env.pop("STASIS_FAULT", None)
    with open(os.devnull, "rb") as null, open(tmp_path / "service.out", "wb") as o:
        proc = subprocess.Popen([sys.executable, "-m", "engine", "service", "--address", str(sock),
                                 "-o", "service.log", "-W", str(tmp_path), "-v4"], cwd=REPO, env=env,
                                stdin=null, stdout=o, stderr=o)
    try:
        deadline = time.monotonic() + 30
        while not sock.exists():
            assert proc.poll() is None, (tmp_path / "service.out").read_text()
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.02)
        assert (sock.stat().st_mode & 0o777) == 0o666
        yield sock
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0, (tmp_path / "service.out").read_text()
    assert not sock.exists()


def _svc_call(sock: Path, req: Any) -> Any:
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.connect(str(sock))
        s.send(req.SerializeToString())
        size = s.recv_into(bytearray(1), 1, socket.MSG_PEEK | socket.MSG_TRUNC)
        resp = rpc.criu_resp()
        resp.ParseFromString(s.recv(size))
        return resp


@needs_root
def test_service_requests_and_startup_cost(service: Path, spawn: Spawner, tmp_path: Path) -> None:
    resp = _svc_call(service, rpc.criu_req(type=rpc.VERSION))
    assert resp.success and resp.version.major_number == 4
    o = opts(-1)
    o.inherit_fd.add(key="pipe:[1]", fd=1)
    o.images_dir = str(tmp_path)
    resp = _svc_call(service, rpc.criu_req(type=rpc.RESTORE, opts=o))
    assert not resp.success and resp.cr_errno == errno.EBADRQC and "inherit_fd" in resp.cr_errmsg
    assert resp.restore.pid == -1
    o = opts(-1, rst_sibling=True)
    o.images_dir = str(tmp_path)
    resp = _svc_call(service, rpc.criu_req(type=rpc.RESTORE, opts=o))
    assert not resp.success and resp.cr_errno == errno.EBADRQC and "rst_sibling" in resp.cr_errmsg
    through_service, fresh = [], []
    for i in range(3):
        t = sleeper(spawn)
        d, fd = images(tmp_path, f"svc{i}")
        t0 = time.monotonic()
        resp = _svc_call(service, rpc.criu_req(type=rpc.DUMP, opts=opts(fd, pid=t.pid, log_file="dump.log")))
        through_service.append(time.monotonic() - t0)
        os.close(fd)
        assert resp.success, resp.cr_errmsg
        t.reap_dumped()
        assert (d / "inventory.img").exists()
        t = sleeper(spawn)
        d = tmp_path / f"cli{i}"
        d.mkdir()
        t0 = time.monotonic()
        res = stasis("dump", "-t", str(t.pid), "-D", d, "-o", "dump.log")
        fresh.append(time.monotonic() - t0)
        assert res.returncode == 0, str(res)
        t.reap_dumped()
    print(f"\ndump of a sleeping python: through the service {min(through_service) * 1000:.0f} ms, "
          f"fresh `stasis dump` {min(fresh) * 1000:.0f} ms (best of 3)")
    assert min(through_service) < min(fresh)
    log = (tmp_path / "service.log").read_text()
    assert "Worker(pid" in log


@needs_root
def test_failed_pre_restore_leaves_nothing(spawn: Spawner, tmp_path: Path) -> None:
    t = spawn.python()
    resp, cli, d = _dump(tmp_path, t)
    assert resp.success and cli.close() == 0
    t.reap_dumped()
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    cli = Swrk(tmp_path)
    req = rpc.criu_req(type=rpc.RESTORE, opts=opts(fd, log_file="restore.log", notify_scripts=True))
    resp = cli.call(req, fail="pre-restore")
    os.close(fd)
    assert not resp.success and resp.restore.pid == -1 and "pre-restore" in resp.cr_errmsg
    assert cli.close() == 1
    assert not os.path.exists(f"/proc/{t.pid}")


@needs_root
def test_restore_onto_the_runtimes_stdio(spawn: Spawner, tmp_path: Path) -> None:
    """runc's way: the tree's stdout was a pipe of the runtime's; the restore's swrk gets a new pipe as its
    own fd 1 and inherit_fd {pipe:[old], 1}. The restored counter writes into the new pipe, and nothing
    of the engine's comes through it."""
    r, w = os.pipe()
    with open(os.devnull, "rb") as null:
        proc = subprocess.Popen([sys.executable, "-c", "import sys, time\nfor i in range(1, 10**6):\n"
                                 "    print(i, flush=True); time.sleep(0.02)\n"], stdin=null, stdout=w,
                                stderr=w, start_new_session=True)
    spawn.pids.append(proc.pid)
    spawn.procs.append(proc)
    key = f"pipe:[{os.fstat(w).st_ino}]"
    os.close(w)
    with os.fdopen(r, "rb") as old:
        assert old.readline().strip() == b"1"
        t = Target(proc.pid, proc, tmp_path / "none", tmp_path)
        resp, cli, d = _dump(tmp_path, t)
        assert resp.success, resp.cr_errmsg
        assert cli.close() == 0
        proc.wait(timeout=10)
        last = int(old.read().split()[-1])
    r2, w2 = os.pipe()
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    o = opts(fd, log_file="restore.log", notify_scripts=True, rst_sibling=False)
    o.inherit_fd.add(key=key, fd=1)
    o.inherit_fd.add(key=key, fd=1)  # runc sends stdout and stderr, often the same pipe: twice
    cli = Swrk(tmp_path, stdout=w2)
    os.close(w2)
    resp = cli.call(rpc.criu_req(type=rpc.RESTORE, opts=o))
    os.close(fd)
    assert resp.success, resp.cr_errmsg
    assert cli.close() == 0
    with os.fdopen(r2, "rb") as new:
        lines = [new.readline() for _ in range(5)]
    assert [int(x) for x in lines] == list(range(last + 1, last + 6)), lines


def test_criu_shim_version(criu_bin: Path) -> None:
    res = subprocess.run([str(criu_bin), "--version"], capture_output=True, text=True, timeout=60)
    assert (res.returncode, res.stdout) == (0, "Version: 4.2\n"), res  # criu's format (old runc parses it)
    res = subprocess.run([str(criu_bin), "swrk"], capture_output=True, text=True, timeout=60)
    assert (res.returncode, res.stderr) == (1, "Usage: criu swrk <fd>\n"), res


@needs_root
def test_criu_shim_check_and_install(criu_bin: Path, tmp_path: Path) -> None:
    res = subprocess.run([str(criu_bin), "check"], capture_output=True, text=True, timeout=60)
    assert (res.returncode, res.stdout) == (0, "Looks good.\n"), res
    res = subprocess.run([str(criu_bin), "--install", str(tmp_path / "bin")], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res
    shim = tmp_path / "bin" / "criu"
    assert shim.read_text().startswith(f"#!{sys.executable} -I\n")  # fixed interpreter, isolated mode
    res = subprocess.run(["criu", "--version"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PATH": f"{shim.parent}:{os.environ['PATH']}",
                              "PYTHONPATH": str(tmp_path / "nowhere")})
    assert res.stdout == "Version: 4.2\n", res  # first on PATH, it is the runtimes' criu
