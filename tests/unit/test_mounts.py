"""engine.objects.mounts: mountinfo as the kernel prints it, the order mounts are made in, and the
--external mnt[] / --root options of the command line."""

from __future__ import annotations

import os

import pytest

from engine import cli
from engine.errors import StasisError
from engine.objects import mounts, taskroot

# from a test's namespace in flavor ns: the root tmpfs, binds, an over-mount, a devpts made after the
# mount it sits in (a smaller id, reused), a mount point with a space
INFO = """\
107 76 0:42 / / rw,relatime - tmpfs zdtm_root rw,mode=777
108 107 254:0 /usr /usr ro,relatime - ext4 /dev/vda rw,discard
114 107 0:43 / /dev rw,relatime shared:5 - tmpfs zdtm_dev rw,mode=777
116 107 0:46 / /run rw,nosuid,relatime master:5 - tmpfs zdtm_run rw
117 116 0:47 / /run rw,relatime unbindable - tmpfs over rw,size=1024k
118 107 0:48 /sub /a\\040b rw,noatime - tmpfs x ro,size=4k
77 114 0:49 / /dev/pts rw,relatime - devpts pts rw,mode=666,ptmxmode=666
"""


def test_parse() -> None:
    m = mounts.parse(INFO)
    assert [x.id for x in m] == [107, 108, 114, 116, 117, 118, 77]
    assert m[1].dev == (254, 0) and m[1].root == "/usr" and m[1].opts == ["ro", "relatime"]
    assert m[2].tag("shared") == 5 and m[3].tag("master") == 5 and m[3].tag("shared") == 0
    assert "unbindable" in m[4].tags
    assert m[5].point == "/a b" and m[5].super == ["ro", "size=4k"] and m[5].root == "/sub"
    assert m[6].fstype == "devpts" and m[6].source == "pts"
    assert mounts.kdev(m[1].dev) == 254 << 20


def test_tree_order_parents_first() -> None:
    order = [x.id for x in mounts._tree_order(mounts.parse(INFO))]
    assert order == [107, 108, 114, 77, 116, 117, 118]
    pos = {i: n for n, i in enumerate(order)}
    for x in mounts.parse(INFO):
        if x.parent in pos:
            assert pos[x.parent] < pos[x.id]


def test_task_root() -> None:
    try:
        taskroot.set_task_root("/proc/42/root/")
        assert taskroot.task_path("/tmp/x") == "/proc/42/root/tmp/x"
        assert taskroot.task_path("rel") == "rel"
        assert taskroot.engine_path("/proc/42/root/tmp/x") == "/tmp/x"
    finally:
        taskroot.set_task_root("")
    assert taskroot.task_path("/tmp/x") == "/tmp/x"


def test_external_mounts_and_root(tmp_path: os.PathLike[str]) -> None:
    args = type("A", (), {"external": ["mnt[/dev]:ZDTM_DEV"], "root": str(tmp_path)})()
    assert cli._ext_mounts(args, dump=True) == (("/dev", "ZDTM_DEV"),)
    assert cli._root(args) == os.path.realpath(tmp_path)
    args.external = [f"mnt[ZDTM_DEV]:{tmp_path}"]
    assert cli._ext_mounts(args, dump=False) == (("ZDTM_DEV", str(tmp_path)),)
    args.external = ["mnt[ZDTM_DEV]:/nonexistent/zdtm"]
    with pytest.raises(StasisError, match="does not exist"):
        cli._ext_mounts(args, dump=False)
    args.external = ["unix[a]:b"]
    with pytest.raises(StasisError, match=r"only mnt\[\.\.\.\]:\.\.\., veth\[\.\.\.\] and net"):
        cli._ext_mounts(args, dump=True)
    args.external = ["net[a]:b"]  # criu's external network namespace: net[INODE]:KEY (test_join_ns_restore)
    with pytest.raises(StasisError, match=r"expected net\[INODE\]:KEY"):
        cli._ext_netns(args, dump=True)
    args.external = ["net[12]:extRootNetNS"]
    assert cli._ext_netns(args, dump=True) == ((12, "extRootNetNS"),)
    with pytest.raises(StasisError, match=r"a dump option"):
        cli._ext_netns(args, dump=False)
    args.root = str(tmp_path / "missing")
    with pytest.raises(StasisError, match="not a directory"):
        cli._root(args)
