"""The io_uring kind's reading of the kernel and its way back to old counters, on real rings."""

from __future__ import annotations

import mmap
import os

import pytest

from engine.abi.consts import IORING_OFF_SQ_RING, IORING_OFF_SQES
from engine.errors import UnsupportedError
from engine.images.pb import io_uring_pb2
from engine.objects.files import io_uring as ur

pytestmark = pytest.mark.skipif(not ur.available(), reason="io_uring disabled on this machine")


def _fdinfo(fd: int) -> ur.Fdinfo:
    with open(f"/proc/self/fdinfo/{fd}") as f:
        return ur.parse_fdinfo(f.read())


def _ring(sq: int, cq: int, target: int) -> tuple[int, list[int], mmap.mmap]:
    """A ring of the engine brought to `target` by the restore path; returns fd, params and its rings."""
    flags = ur.IORING_SETUP_CQSIZE if cq != 2 * sq else 0
    msg = io_uring_pb2.stasis_io_uring_instance(sq_entries=sq, cq_entries=cq, setup_flags=flags,
                                                sq_head=target, sq_tail=target, cq_head=target,
                                                cq_tail=target, rings=b"", sqes=b"", pid=os.getpid())
    fd, q = ur._setup(msg, "test", None)
    rings = mmap.mmap(fd, mmap.PAGESIZE, offset=IORING_OFF_SQ_RING)
    sqes = mmap.mmap(fd, mmap.PAGESIZE, offset=IORING_OFF_SQES)
    try:
        ur._advance(fd, q, rings, sqes, target, ur.SQE_SIZE, "test")
    finally:
        sqes.close()
    return fd, q, rings


def test_fresh_ring_is_idle_at_zero() -> None:
    fd, _, rings = _ring(4, 8, 0)
    try:
        info = _fdinfo(fd)
        assert ur._idle(info, "t") == 0
        assert (int(info.values["SqMask"], 16), int(info.values["CqMask"], 16)) == (3, 7)
        assert not info.files and not info.bufs and not info.polls
    finally:
        rings.close()
        os.close(fd)


@pytest.mark.parametrize("sq,cq,target", [(4, 8, 1), (4, 8, 1001), (8, 32, 777), (1, 2, 5)])
def test_nops_reach_the_old_counters(sq: int, cq: int, target: int) -> None:
    fd, _, rings = _ring(sq, cq, target)
    try:
        info = _fdinfo(fd)
        assert ur._idle(info, "t") == target
        assert int(info.values["CqMask"], 16) == cq - 1
    finally:
        rings.close()
        os.close(fd)


def test_a_submission_not_consumed_is_in_flight() -> None:
    fd, q, rings = _ring(4, 8, 10)
    try:
        tail = q[11]
        rings[tail:tail + 4] = (11).to_bytes(4, "little")  # an SQE made visible, io_uring_enter not called
        with pytest.raises(UnsupportedError, match="in flight"):
            ur._idle(_fdinfo(fd), "t")
    finally:
        rings.close()
        os.close(fd)


def test_slots_of_registered_files_and_escaped_paths() -> None:
    text = ("SqMask:\t0x3\nUserFiles:\t3\n    0: /tmp/a\\040b\n    2: pipe:[12]\nUserBufs:\t1\n"
            "    0: 0x7f0000001000/4096\nPollList:\nCqOverflowList:\n")
    info = ur.parse_fdinfo(text)
    assert info.files == {0: "/tmp/a b", 2: "pipe:[12]"}
    assert info.bufs == [(0x7F0000001000, 4096)]
    assert info.values["UserFiles"] == "3"
