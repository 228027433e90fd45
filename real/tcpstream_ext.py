"""One TCP connection between the tree and a peer outside it, dumped with --tcp-established while both ends
stream numbered records to each other (real/progs/tcpstream.py): the tree is the client end alone; the
server end is the harness's child, never dumped, which goes on sending while the client is frozen, dumped
and restored (the network lock must keep the kernel from answering it with a reset meanwhile).

Mid-work: the client end received 2,000 more records. End: SIGTERM to the client end, which ends the
stream with its total; the server end answers with its own and exits. Verified as real/tcpstream: no
record lost, doubled or out of order at either end, each end received what the other sent; the peer exited
with status 0.
"""

import sys
from pathlib import Path

from zdtm.real import Real, module

BASE = module(Path(__file__).resolve().with_name("tcpstream.py"))
SCRIPT = BASE.SCRIPT

PROGRAM = Real(
    argv=[sys.executable, "-I", str(SCRIPT), "client", "port"],
    peer=lambda wd: [sys.executable, "-I", str(SCRIPT), "server", "port"],
    progress=BASE.progress,
    verify=BASE.verify_stream,
    mid_work=40,
    stop="SIGTERM",
    opts=["--tcp-established"],
)
