"""A tmux server in the foreground (tmux -D, its own socket and config in the work dir) with a session whose
pane runs a shell; driven by tmux's own client (`tmux -S SOCKET ...`, a child of the harness, outside the
tree): every command is a new client connection to the server's unix socket.

Round 0 makes the session (a /bin/sh in a 100x30 pane) and sets a shell variable to a random token. Every
client round k (after the start, before each dump, after each restore): `send-keys` types a command line
into the pane that appends "round-k-TOKEN-(k*k+1)" to pane.txt (the same shell, with its variable: not a new
one) and echoes a mark; `capture-pane` must show the mark on the pane's screen, and pane.txt the line; the
pane's shell is the same process as in round 0. Then the server must be back to its listening socket only
(the clients' connections closed). End: SIGTERM to the server. Verified: pane.txt holds every round once,
in order, with the token.
"""

import os
import secrets
import socket
import time
from pathlib import Path

from zdtm.real import Real, command, lines, run_client

CONF = "set -g history-limit 2000\nset -g status-interval 1\n"


def argv(wd: Path) -> list[str]:
    (wd / "tmux.conf").write_text(CONF)
    return [command("tmux") or "tmux", "-D", "-S", str(wd / "tmux.sock"), "-f", str(wd / "tmux.conf")]


def tmux(wd: Path, *args: str) -> tuple[int, str]:
    return run_client([command("tmux") or "tmux", "-S", str(wd / "tmux.sock"), *args])


def ready(wd: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(str(wd / "tmux.sock"))
        return True
    except OSError:
        return False


def server_sockets(wd: Path) -> int:
    pid = int((wd / "tmux.pid").read_text())
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return n


def client(wd: Path, k: int) -> list[str]:
    if k == 0:
        token = secrets.token_hex(8)
        (wd / "token").write_text(f"{token}\n")
        rc, out = tmux(wd, "new-session", "-d", "-s", "main", "-x", "100", "-y", "30", "/bin/sh")
        if rc != 0:
            return [f"new-session: {rc} {out.strip()!r}"]
        rc, out = tmux(wd, "send-keys", "-t", "main", f"S={token}", "Enter")
        if rc != 0:
            return [f"send-keys: {rc} {out.strip()!r}"]
    token = (wd / "token").read_text().strip()
    rc, out = tmux(wd, "list-panes", "-t", "main", "-F", "#{pane_pid} #{pane_tty} #{pane_dead}")
    if rc != 0 or len(out.split()) != 3 or out.split()[2] != "0":
        return [f"list-panes: {rc} {out.strip()!r} (expected one live pane)"]
    if k == 0:
        (wd / "pane").write_text(out)
    if out != (wd / "pane").read_text():
        return [f"the pane is {out.strip()!r}, it was {(wd / 'pane').read_text().strip()!r} in round 0"]
    mark = f"mark-{k}-{k * 7 + 3}"
    line = f'echo "round-{k}-$S-$(({k}*{k}+1))" >> pane.txt; echo "mark-{k}-$(({k}*7+3))"'
    rc, out = tmux(wd, "send-keys", "-t", "main", line, "Enter")
    if rc != 0:
        return [f"send-keys: {rc} {out.strip()!r}"]
    want = f"round-{k}-{token}-{k * k + 1}"
    deadline = time.monotonic() + 10.0
    while True:
        rc, screen = tmux(wd, "capture-pane", "-p", "-t", "main")
        # the mark ends a line (typed-ahead input may put prompts before it); the typed line has $((...))
        if (
            rc == 0
            and any(ln.endswith(mark) for ln in screen.splitlines())
            and lines(wd / "pane.txt")[-1:] == [want]
        ):
            break
        if time.monotonic() > deadline:
            return [
                f"after 10 s: pane.txt ends {lines(wd / 'pane.txt')[-1:]!r} (expected {want!r}), "
                f"the screen ({rc}): {screen.strip()[-300:]!r}"
            ]
        time.sleep(0.05)
    deadline = time.monotonic() + 10.0
    while (n := server_sockets(wd)) != 1:
        if time.monotonic() > deadline:
            return [f"the server holds {n} sockets 10 s after its clients ended (expected its listener only)"]
        time.sleep(0.02)
    return []


def verify(wd: Path) -> list[str]:
    token = (wd / "token").read_text().strip()
    got = lines(wd / "pane.txt")
    want = [f"round-{k}-{token}-{k * k + 1}" for k in range(len(got))]
    if got != want or len(got) < 2:
        return [f"pane.txt: {got[:5]!r}..., expected {want[:5]!r}... (at least 2 rounds)"]
    return []


PROGRAM = Real(
    argv=argv,
    ready=ready,
    client=client,
    verify=verify,
    needs=("tmux",),
    stop="SIGTERM",
    check_state=True,  # between client rounds the server holds still
)
