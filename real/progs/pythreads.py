"""N worker threads (default 4) and the main thread, until SIGTERM.

Each worker appends "seq global" records to its own file worker<k>.txt, kept open: seq counts its own
records, global is a counter shared by all workers under one lock. The main thread appends a tick to
main.txt every 10 ms. On SIGTERM the workers finish, and done.txt gets "done <global> <ticks>".
"""

import signal
import sys
import threading
import time
from pathlib import Path

lock = threading.Lock()
stop = threading.Event()
total = 0


def worker(k: int) -> None:
    global total
    seq = 0
    with open(f"worker{k}.txt", "a") as f:
        while not stop.is_set():
            with lock:
                total += 1
                seq += 1
                f.write(f"{seq} {total}\n")
                f.flush()
            time.sleep(0.002 * (k + 1))


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threads = [threading.Thread(target=worker, args=(k,), name=f"worker{k}") for k in range(n)]
    for t in threads:
        t.start()
    ticks = 0
    with open("main.txt", "a") as f:
        while not stop.wait(0.01):
            ticks += 1
            f.write(f"{ticks}\n")
            f.flush()
    for t in threads:
        t.join()
    Path("done.txt").write_text(f"done {total} {ticks}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
