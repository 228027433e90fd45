"""Which earlier fd a new fd may share its description with (the generic fd code's share key and kcmp,
epoll's index of candidate targets), on real fds of this process."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from engine.abi import nr
from engine.abi.consts import CLOCK_MONOTONIC
from engine.native import lib
from engine.objects.files.epoll import FdIndex
from engine.objects.files.kind import Fd
from engine.objects.files.table import FileTable, share_key
from engine.proc import FdInfo
from engine.proc import fds as proc_fds


@pytest.fixture
def opened() -> Iterator[list[int]]:
    out: list[int] = []
    yield out
    for fd in out:
        os.close(fd)


def fd_of(num: int) -> Fd:
    info = next(i for i in proc_fds(os.getpid()) if i.fd == num)
    return Fd(os.getpid(), info, os.stat(f"/proc/self/fd/{num}"), "")


def test_anon_inode_keys_tell_kinds_and_eventfds_apart(opened: list[int]) -> None:
    a, b = os.eventfd(0), os.eventfd(0)
    tfd = lib.st_syscall(nr.timerfd_create, CLOCK_MONOTONIC, 0, 0, 0, 0, 0)
    assert tfd >= 0
    opened += [a, b, tfd]
    a2 = os.dup(a)
    opened.append(a2)
    ka, kb, kt, ka2 = (share_key(fd_of(x)) for x in (a, b, tfd, a2))
    assert os.stat(f"/proc/self/fd/{a}").st_ino == os.stat(f"/proc/self/fd/{tfd}").st_ino  # one anon inode
    assert ka == ka2 and ka != kt
    if fd_of(a).info.extra.get("eventfd-id"):
        assert ka != kb  # a kernel with eventfd-id: another eventfd is never a candidate
    else:
        assert ka == kb  # without it, kcmp tells them apart


def test_shared_with_finds_the_same_description_only(opened: list[int]) -> None:
    a, b = os.eventfd(0), os.eventfd(0)
    r, w = os.pipe()
    opened += [a, b, r, w]
    a2, r2 = os.dup(a), os.dup(r)
    opened += [a2, r2]
    me = os.getpid()
    table = FileTable()
    for fid, num in enumerate((a, b, r, w), start=1):
        key = share_key(fd_of(num))
        assert table.shared_with(me, num, key) == 0
        table.remember(me, num, key, fid)
    assert table.shared_with(me, a2, share_key(fd_of(a2))) == 1
    assert table.shared_with(me, r2, share_key(fd_of(r2))) == 3  # not the write end, same inode
    c = os.eventfd(0)
    opened.append(c)
    assert table.shared_with(me, c, share_key(fd_of(c))) == 0


def test_epoll_candidates_come_with_the_registered_number_first_then_by_number() -> None:
    def info(fd: int, ino: int) -> FdInfo:
        return FdInfo(fd, "x", 0, 0, 0, ino, {})

    index = FdIndex([info(3, 7), info(4, 9), info(5, 0), info(6, 7), info(8, 7)])
    assert [i.fd for i in index.candidates(7, 6)] == [6, 3, 5, 8]
    assert [i.fd for i in index.candidates(7, 4)] == [3, 5, 6, 8]  # fd 4 holds another inode
    assert [i.fd for i in index.candidates(0, 5)] == [5]
    assert [i.fd for i in index.candidates(11, 99)] == [5]
