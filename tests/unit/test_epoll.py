"""The epoll kind's reading of the kernel: fdinfo tfd lines and kcmp(KCMP_EPOLL_TFD), on real epolls."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import Any

import pytest

from engine.abi import nr
from engine.abi.consts import EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLLET, EPOLLIN, EPOLLONESHOT, EPOLLOUT
from engine.native import ffi, syscall
from engine.objects.files.epoll import fired, registrations, same_target


def _add(ep: int, fd: int, events: int, data: int) -> None:
    buf = ffi.new("char[12]", struct.pack("<IQ", events, data))
    syscall(nr.epoll_ctl, ep, EPOLL_CTL_ADD, fd, int(ffi.cast("uintptr_t", buf)), what="epoll_ctl")


@pytest.fixture
def fds() -> Iterator[list[int]]:
    opened: list[int] = []
    yield opened
    for fd in opened:
        os.close(fd)


def test_registrations_are_read_with_events_data_and_inode(fds: list[int]) -> None:
    ep = syscall(nr.epoll_create1, EPOLL_CLOEXEC)
    r, w = os.pipe()
    fds += [ep, r, w]
    _add(ep, r, EPOLLIN | EPOLLET, 0xFEEDFACE_00000001)
    _add(ep, w, EPOLLOUT | EPOLLONESHOT, 7)
    regs = {x.tfd: x for x in registrations(os.getpid(), ep)}
    assert set(regs) == {r, w}
    assert regs[r].events == EPOLLIN | EPOLLET | 0x18  # the kernel adds EPOLLERR | EPOLLHUP
    assert regs[r].data == 0xFEEDFACE_00000001 and regs[r].ino == os.fstat(r).st_ino
    assert regs[w].data == 7 and not regs[w].fired
    out = ffi.new("char[24]")
    assert syscall(nr.epoll_wait, ep, int(ffi.cast("uintptr_t", out)), 2, 0) == 1  # the write end only
    regs = {x.tfd: x for x in registrations(os.getpid(), ep)}
    assert regs[w].fired and regs[w].events == EPOLLONESHOT  # masked to the private bits
    assert not regs[r].fired and fired(EPOLLONESHOT | EPOLLET) and not fired(EPOLLONESHOT | EPOLLIN)


def test_a_target_is_found_under_another_fd_number(fds: list[int]) -> None:
    ep = syscall(nr.epoll_create1, EPOLL_CLOEXEC)
    r, w = os.pipe()
    r2, w2 = os.pipe()
    fds += [ep, w, r2, w2]
    _add(ep, r, EPOLLIN, 1)
    moved = os.dup(r)
    fds.append(moved)
    os.close(r)
    me = os.getpid()
    assert registrations(me, ep)[0].tfd == r  # fdinfo still shows the number it was registered with
    assert same_target(me, moved, me, ep, r, 0)
    assert not same_target(me, r2, me, ep, r, 0)  # another pipe
    assert not same_target(me, w, me, ep, r, 0)  # the other end of the same pipe: another file
    assert not same_target(me, moved, me, ep, r, 1)  # no second registration under that number


def test_the_target_comes_from_the_stasis_field_or_as_criu_means_it() -> None:
    from types import SimpleNamespace

    from engine.errors import RestoreError
    from engine.images.pb import eventpoll_pb2, fdinfo_pb2
    from engine.objects.files.epoll import _target

    t: Any = SimpleNamespace(pid=42)
    placed = {5: fdinfo_pb2.fdinfo_entry(id=3, flags=0, type=fdinfo_pb2.PIPE, fd=5)}
    ours = eventpoll_pb2.eventpoll_tfd_entry(id=9, tfd=20, events=1, data=0)
    ours.stasis.target = 7
    assert _target(t, 4, ours, placed) == 7  # a number closed since: the image names the file
    criu = eventpoll_pb2.eventpoll_tfd_entry(id=9, tfd=5, events=1, data=0)
    assert _target(t, 4, criu, placed) == 3  # CRIU's image: the task's fd numbered tfd
    criu.tfd = 6
    with pytest.raises(RestoreError, match="registered as fd 6"):
        _target(t, 4, criu, placed)
