"""nginx (Debian's nginx-light): a master and 2 workers in the foreground (daemon off), its own config, page
and logs in the work dir, on a port chosen free at the start; driven by an HTTP client (Python's
http.client, a connection per request).

Every client round k (after the start, before each dump, after each restore): the page is served with its
content; /pid (nginx's $pid) answers only with pids of the master's workers, the same workers as in round 0
(a restored master that had started new workers would be caught); the stub_status counters, which live in
memory the master and its workers share, count exactly the requests made since the start (they went on
from where they were, not from 0). End: SIGTERM (fast shutdown). Verified: every round passed in order
(client.txt), access.log holds every request with status 200, and nginx logged no alert or error.
"""

import http.client
import os
import time
from pathlib import Path

from zdtm.procs import stat_state
from zdtm.real import Real, command, free_port, lines, listening, wait_tcp_idle

PAGE = "<html><body><h1>stasis nginx page</h1>" + "<p>x</p>" * 200 + "</body></html>\n"
REQUESTS = 10  # /pid requests per round


def argv(wd: Path) -> list[str]:
    port = free_port()
    (wd / "port").write_text(f"{port}\n")
    (wd / "html").mkdir(exist_ok=True)
    (wd / "html" / "index.html").write_text(PAGE)
    temps = "".join(
        f"    {t}_temp_path {wd}/tmp/{t};\n" for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (wd / "tmp").mkdir(exist_ok=True)
    (wd / "nginx.conf").write_text(
        "daemon off;\n"
        "master_process on;\n"
        "worker_processes 2;\n"
        f"pid {wd}/nginx-master.pid;\n"
        "error_log stderr notice;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"    access_log {wd}/access.log;\n"
        f"{temps}"
        "    server {\n"
        f"        listen 127.0.0.1:{port};\n"
        f"        root {wd}/html;\n"
        '        location = /pid { default_type text/plain; return 200 "$pid\\n"; }\n'
        "        location = /status { stub_status; }\n"
        "    }\n"
        "}\n"
    )
    return [command("nginx") or "nginx", "-p", str(wd), "-e", "stderr", "-c", str(wd / "nginx.conf")]


def port(wd: Path) -> int:
    return int((wd / "port").read_text())


def get(wd: Path, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port(wd), timeout=10.0)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    finally:
        conn.close()


def workers(master: int) -> list[int]:
    """The master's children, from /proc (nginx's workers)."""
    found = []
    for e in Path("/proc").iterdir():
        if not e.name.isdigit() or stat_state(int(e.name)) in (None, "Z"):
            continue
        try:
            stat = (e / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            found.append(int(e.name))
    return sorted(found)


def master_waits(master: int) -> list[str]:
    """The master blocks its signals and waits in sigsuspend() with none blocked: back there (SigBlk 0)
    within 5 s, as after every request, also after a restore."""
    deadline = time.monotonic() + 5.0
    while True:
        status = dict(ln.split(":\t", 1) for ln in Path(f"/proc/{master}/status").read_text().splitlines())
        if int(status["SigBlk"], 16) == 0:
            return []
        if time.monotonic() > deadline:
            return [f"the master is not back in sigsuspend() after 5 s: SigBlk {status['SigBlk'].strip()}"]
        time.sleep(0.02)


def client(wd: Path, k: int) -> list[str]:
    problems: list[str] = []
    done = len(lines(wd / "client.txt"))  # requests made by the earlier rounds: (2 + REQUESTS) each
    status, body = get(wd, "/")
    if status != 200 or body != PAGE:
        problems.append(f"GET /: {status}, {len(body)} bytes (expected 200, {len(PAGE)} bytes of the page)")
    master = int((wd / "nginx-master.pid").read_text())
    now = workers(master)
    if k == 0:
        (wd / "workers.txt").write_text(" ".join(map(str, now)) + "\n")
    first = [int(p) for p in (wd / "workers.txt").read_text().split()]
    if len(now) != 2 or now != first:
        problems.append(f"the master's workers are {now}, they were {first} in round 0")
    for _ in range(REQUESTS):
        status, body = get(wd, "/pid")
        if status != 200 or not body.strip().isdigit() or int(body) not in now:
            problems.append(f"GET /pid: {status} {body.strip()!r}, not one of the workers {now}")
            break
    status, body = get(wd, "/status")
    # "Active connections: 1 \nserver accepts handled requests\n A H R \nReading: ..."
    counts = body.splitlines()[2].split() if status == 200 and len(body.splitlines()) > 2 else []
    want = done * (2 + REQUESTS) + 2 + REQUESTS
    if len(counts) != 3 or int(counts[2]) != want:
        problems.append(f"stub_status: {body!r}, expected {want} requests (all since the start)")
    problems += wait_tcp_idle(port(wd))
    problems += master_waits(master)
    if not problems:
        with open(wd / "client.txt", "a") as f:
            f.write(f"{k}\n")
    return problems


def verify(wd: Path) -> list[str]:
    problems = []
    rounds = lines(wd / "client.txt")
    if rounds != [str(j) for j in range(len(rounds))] or len(rounds) < 2:
        problems.append(f"client.txt: rounds {rounds}, expected 0, 1, ... (at least 2)")
    log = [ln.split('"') for ln in lines(wd / "access.log")]
    statuses = [r[2].split()[0] for r in log if len(r) > 2]
    if len(log) != len(rounds) * (2 + REQUESTS) or set(statuses) != {"200"}:
        problems.append(
            f"access.log: {len(log)} requests, statuses {sorted(set(statuses))}, "
            f"expected {len(rounds) * (2 + REQUESTS)} with 200"
        )
    bad = [
        ln
        for ln in lines(wd / "nginx.stderr")
        if any(f"[{w}]" in ln for w in ("alert", "emerg", "crit", "error"))
    ]
    if bad:
        problems.append(f"nginx.stderr: {bad[:3]!r}")
    return problems


def fds_in_flight(pids: list[int]) -> int:
    """The fds queued in the unix sockets of these processes (fdinfo's scm_fds, Linux 6.x; 0 before)."""
    n = 0
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fdinfo"):
            try:
                info = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
            except OSError:
                continue
            n += sum(int(ln.split()[1]) for ln in info.splitlines() if ln.startswith("scm_fds:"))
    return n


def ready(wd: Path) -> bool:
    """Listening, both workers started, and done with the channels the master passes them at the start
    (SCM_RIGHTS messages on their socketpairs): until a worker has read its own, the server still moves."""
    pidfile = wd / "nginx-master.pid"
    if not pidfile.exists() or not pidfile.read_text().strip():
        return False
    master = int(pidfile.read_text())
    tree = [master, *workers(master)]
    return len(tree) == 3 and fds_in_flight(tree) == 0 and listening(port(wd))


PROGRAM = Real(
    argv=argv,
    ready=ready,
    client=client,
    verify=verify,
    needs=("nginx",),
    stop="SIGTERM",
    # not check_state: the restored master leaves sigsuspend() and calls it again, a moment in which its
    # real mask shows (SigBlk); a compare under load catches it there (master_waits checks it goes back)
)
