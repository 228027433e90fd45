"""The per-item container's pid 1 (like upstream's zdtm_ct + zdtm.py's reaper).

Started by zdtm.container through `unshare --pid --mount ... --fork`, so this process is pid 1 of a new pid
namespace: it brings lo up, forks the cycle, and reaps every zombie at once (daemonized tests and restored
trees are reparented here) until the cycle exits. When pid 1 exits the kernel kills whatever is left in
the namespace, and the mount namespace goes with its last process: nothing outlives the item.
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import struct
import sys
import traceback
from pathlib import Path

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def lo_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(s, SIOCGIFFLAGS, ifreq))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | IFF_UP))


def main(argv: list[str]) -> int:
    spec_path = Path(argv[1])
    # a terminal's ^C reaches the whole process group; the pytest side decides what to kill
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.getpid() != 1:
        print("zdtm.ct: not pid 1 of a new pid namespace", file=sys.stderr)
        return 2
    lo_up()
    cycle_pid = os.fork()
    if cycle_pid == 0:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            from zdtm import cycle

            code = cycle.main(spec_path)
        except BaseException:
            traceback.print_exc()
            code = 3
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 3
        except InterruptedError:
            continue
        if pid == cycle_pid:
            return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
