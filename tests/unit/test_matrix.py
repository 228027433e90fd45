"""The kernel matrix's pieces that need no VM: kernel choice, the guest's script, reading `stasis check`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from zdtm import matrix

REPO = Path(__file__).resolve().parents[2]


def test_the_newest_kernel_of_a_series_is_chosen_by_version_not_by_text() -> None:
    names = ["linux-image-6.1.0-9-amd64-unsigned", "linux-image-6.1.0-57-amd64-unsigned",
             "linux-image-6.1.0-10-amd64-unsigned"]
    assert max(names, key=matrix._version_key) == "linux-image-6.1.0-57-amd64-unsigned"
    assert max(["linux-image-6.12.9+deb12-amd64-unsigned", "linux-image-6.12.118+deb12-amd64-unsigned"],
               key=matrix._version_key) == "linux-image-6.12.118+deb12-amd64-unsigned"


@pytest.mark.skipif(not shutil.which("apt-cache"), reason="no apt here")
def test_a_series_names_one_plain_amd64_package_of_it() -> None:
    try:
        pkg = matrix.package_for("6.1")
    except SystemExit:
        pytest.skip("no 6.1 kernel in this machine's apt sources")
    assert pkg.startswith("linux-image-6.1.") and pkg.endswith("-amd64-unsigned")
    assert "-cloud-" not in pkg and "-rt-" not in pkg


def test_from_7_a_kernel_is_debians_split_binary_package() -> None:
    assert matrix._split("7") and matrix._split("7.3")
    assert not matrix._split("6.12") and not matrix._split("5.10")
    assert max(["linux-binary-7.3.4+deb13-amd64", "linux-binary-7.10.1+deb13-amd64"],
               key=matrix._version_key) == "linux-binary-7.10.1+deb13-amd64"


def test_the_guest_runs_the_chosen_programs_with_its_own_run_dir(tmp_path: Path) -> None:
    paths = [REPO / "static" / "env00.c", REPO / "transition" / "mem_churn00.c"]
    text = matrix.guest_script(tmp_path, paths, "h", "env or churn", 2, in_vm=True)
    assert "export ZDTM_RUN_DIR=/tmp/zdtm-run" in text
    assert "static/env00.c transition/mem_churn00.c" in text
    assert "-k 'env or churn'" in text
    assert f"--zdtm-junit={tmp_path}/junit.xml" in text
    assert f"cp -r --no-preserve=ownership,mode /tmp/zdtm-run {tmp_path}/run" in text
    # the script is valid sh
    assert subprocess.run(["sh", "-n"], input=text, text=True).returncode == 0


def test_what_a_kernel_lacks_comes_from_stasis_check(tmp_path: Path) -> None:
    env = dict(os.environ, STASIS_NO_PAGEMAP_SCAN="1")
    out = subprocess.run([sys.executable, "-m", "engine", "check"], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    (tmp_path / "check.txt").write_text(out.stdout)
    lacks = matrix.lacks(tmp_path / "check.txt")
    scan = [x for x in lacks if x.startswith("pagemap_scan")]
    assert scan and "reading /proc/PID/pagemap" in scan[0]
    assert any(x.startswith("page scan: /proc/PID/pagemap") for x in lacks)
    assert not any(x.startswith("clone3_set_tid") for x in lacks)  # present here: not listed
    assert matrix.lacks(tmp_path / "missing.txt") == [
        "(no stasis check output: the guest did not get that far)"]
