"""engine.cli.fast_parse must read every command line it accepts exactly as argparse does."""

from __future__ import annotations

import pytest

from engine import cli

SAME = [
    ["dump", "-t", "42", "-D", "/tmp/img", "-o", "dump.log", "-v4"],
    ["restore", "-D", "imgs", "-o", "restore.log", "--verbosity=4", "-d", "--pidfile", "/run/p"],
    ["-v4", "restore", "--images-dir=x", "-Wwork", "-j", "--timeout", "2.5"],
    ["dump", "--tree=7", "--leave-running", "-R", "--external", "a", "--external=b", "--root", "/r"],
    ["check", "--feature", "userns", "--all", "--no-default-config"],
    ["check", "--fault-points"],
    ["check", "--stages"],
    ["dump", "-t", "3", "--file-locks", "-l"],
    ["dump", "-t", "3", "--ghost-limit", "3M"],
    ["show", "images/core-1.img"],
    ["dump", "-t", "1", "-t", "2", "--pre-dump-mode", "read"],
    ["restore", "--manage-cgroups", "--cgroup-root", "pids:/x", "--cgroup-root=/all"],
    ["dump", "-t", "3", "--manage-cgroups=ignore"],
]
ARGPARSE_DECIDES = [
    [], ["frobnicate"], ["--version"], ["dump", "--help"], ["dump", "-t", "x"], ["dump", "-t", "-1"],
    ["dump", "--lazy-pages"], ["dump", "--images", "x"], ["restore", "-dj"],
    ["dump", "--pre-dump-mode", "z"],
    ["show", "a", "b"], ["dump", "--", "x"], ["dump", "-t"], ["dump", "--shell-job=1"],
    ["dump", "-D", "-"],
]


@pytest.mark.parametrize("argv", SAME, ids=" ".join)
def test_fast_parse_agrees_with_argparse(argv: list[str]) -> None:
    argv = cli.normalize(argv)
    fast = cli.fast_parse(argv)
    assert fast is not None
    assert vars(fast) == vars(cli._parser().parse_args(argv))


@pytest.mark.parametrize("argv", ARGPARSE_DECIDES, ids=" ".join)
def test_fast_parse_leaves_the_rest_to_argparse(argv: list[str]) -> None:
    assert cli.fast_parse(cli.normalize(argv)) is None


def test_manage_cgroups_without_a_mode_is_soft_and_cgroup_roots_as_criu_reads_them() -> None:
    args = cli.parse_args(cli.normalize(["restore", "--manage-cgroups", "--cgroup-root", "pids:/x",
                                         "--cgroup-root=/all", "--cgroup-root", ":/v2"]))
    assert args.manage_cgroups == "soft"
    assert cli._cg_roots(args) == (("pids", "/x"), (None, "/all"), ("", "/v2"))
    from engine.errors import StasisError

    args.manage_cgroups = "sometimes"
    with pytest.raises(StasisError, match="--manage-cgroups=sometimes"):
        cli._cg_mode(args)
