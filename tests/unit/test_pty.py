"""The pty kind's ioctl layouts against the kernel: a new pty gets the state an image describes."""

from __future__ import annotations

import fcntl
import os
import termios

from engine.abi.consts import TCGETS2, TCSETS2, TIOCGPKT, TIOCGPTLCK, TIOCGWINSZ
from engine.images.pb import tty_pb2
from engine.objects.files import pty


def test_termios2_size_is_the_ioctl_size() -> None:
    for req in (TCGETS2, TCSETS2):
        assert (req >> 16) & 0x3FFF == pty.TERMIOS2.size


def test_apply_pair_sets_a_new_pty() -> None:
    m = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        index = pty._ioctl_int(m, pty.TIOCGPTN)
        node = os.stat(f"/dev/pts/{index}")
        i = tty_pb2.tty_info_entry(id=1, type=tty_pb2.PTY, locked=False, exclusive=False, packet_mode=True,
                                   sid=0, pgrp=0, rdev=pty.PTMX_RDEV, uid=node.st_uid, gid=node.st_gid)
        i.pty.index = index
        cur = termios.tcgetattr(m)
        tm = i.termios
        tm.c_iflag, tm.c_oflag = cur[0], cur[1] & ~termios.OPOST
        tm.c_cflag = cur[2] & ~termios.CBAUD | termios.B9600  # the speed the kernel keeps
        tm.c_lflag = cur[3] & ~(termios.ICANON | termios.ECHO)
        tm.c_line, tm.c_ispeed, tm.c_ospeed = 0, 9600, 9600
        tm.c_cc.extend(range(1, 20))
        w = i.winsize
        w.ws_row, w.ws_col, w.ws_xpixel, w.ws_ypixel = 24, 80, 1, 2
        pty._apply_pair(m, i, "/dev/pts")
        got = termios.tcgetattr(m)
        assert got[1] == tm.c_oflag and got[3] == tm.c_lflag
        raw = fcntl.ioctl(m, TCGETS2, bytes(pty.TERMIOS2.size))
        assert pty.TERMIOS2.unpack(raw)[5] == bytes(range(1, 20))
        assert pty.TERMIOS2.unpack(raw)[6:] == (9600, 9600)
        assert pty.WINSIZE.unpack(fcntl.ioctl(m, TIOCGWINSZ, bytes(8))) == (24, 80, 1, 2)
        assert pty._ioctl_int(m, TIOCGPKT) == 1
        assert pty._ioctl_int(m, TIOCGPTLCK) == 0
    finally:
        os.close(m)
