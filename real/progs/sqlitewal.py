"""A writer and a contender on one SQLite database in WAL mode, until SIGTERM to the writer.

The writer (the root) inserts rows 1, 2, ... into `rows`, one transaction each, and appends n to
writer.txt once the row is committed. The contender, its child, opens its own connection (busy timeout
10 s) and loops: in one write transaction (BEGIN IMMEDIATE: it contends with the writer for WAL's write
lock) it reads max(n) and count(*) of `rows` and inserts them into `checks`; once committed it appends
"k max count" to contender.txt. Both hold SQLite's POSIX locks on the database and its -shm file
(which both also map shared) all the time. On SIGTERM the writer stops the contender, waits for it and
writes "done <rows> <checks> <integrity_check>" to done.txt.
"""

import os
import signal
import sqlite3
import sys
import time

DB = "wal.db"


def connect() -> sqlite3.Connection:
    db = sqlite3.connect(DB, timeout=10.0, isolation_level=None)
    db.execute("PRAGMA busy_timeout = 10000")
    return db


def contender(stop_fd: int) -> int:
    stopping = False

    def on_term(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    db = connect()
    k = db.execute("SELECT count(*) FROM checks").fetchone()[0]
    with open("contender.txt", "a") as out:
        while not stopping:
            db.execute("BEGIN IMMEDIATE")
            top, count = db.execute("SELECT coalesce(max(n), 0), count(*) FROM rows").fetchone()
            k += 1
            db.execute("INSERT INTO checks (k, top, count) VALUES (?, ?, ?)", (k, top, count))
            db.execute("COMMIT")
            out.write(f"{k} {top} {count}\n")
            out.flush()
            time.sleep(0.005)
    db.close()
    os.close(stop_fd)
    return 0


def main() -> int:
    stop = False

    def on_term(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    db = connect()
    mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode != "wal":
        print(f"journal_mode is {mode}, not wal", file=sys.stderr)
        return 1
    db.execute("CREATE TABLE IF NOT EXISTS rows (n INTEGER PRIMARY KEY, at REAL NOT NULL)")
    db.execute("CREATE TABLE IF NOT EXISTS checks (k INTEGER PRIMARY KEY, top INTEGER, count INTEGER)")
    db.close()  # no connection crosses the fork
    r, w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(r)
        os._exit(contender(w))
    os.close(w)
    db = connect()
    n = db.execute("SELECT coalesce(max(n), 0) FROM rows").fetchone()[0]
    with open("writer.txt", "a") as out:
        while not stop:
            n += 1
            db.execute("BEGIN")
            db.execute("INSERT INTO rows (n, at) VALUES (?, ?)", (n, time.time()))
            db.execute("COMMIT")
            out.write(f"{n}\n")
            out.flush()
            time.sleep(0.002)
    os.kill(child, signal.SIGTERM)
    os.read(r, 1)  # EOF once the contender closed its connection
    _, status = os.waitpid(child, 0)
    rows = db.execute("SELECT count(*) FROM rows").fetchone()[0]
    checks = db.execute("SELECT count(*) FROM checks").fetchone()[0]
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    db.close()
    with open("done.txt", "w") as f:
        f.write(f"done {rows} {checks} {integrity} {status}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
