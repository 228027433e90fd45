"""The CLI contract: criu's spellings, clean errors (exit 1, one line, no traceback), the log file,
`check`, `show` and `--version`. Everything runs `python -m engine` as a subprocess."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import Result, Target, needs_root, stasis

LOG_LINE = re.compile(r"^\(\s*\d+\.\d{6}\) ")


def clean_error(res: Result) -> str:
    assert res.returncode == 1, str(res)
    assert "Traceback" not in res.stderr, str(res)
    lines = res.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr:\n{res}"
    return lines[0]


def log_lines(path: Path) -> list[str]:
    assert path.exists(), f"no log file {path}"
    lines = path.read_text().splitlines()
    starts = [line for line in lines if LOG_LINE.match(line)]
    assert len(starts) == len([line for line in lines if line and not line[0].isspace()
                               and not line.startswith("Traceback")]), f"lines without a timestamp:\n{lines}"
    return starts


def test_version() -> None:
    res = stasis("--version")
    assert res.returncode == 0, str(res)
    assert re.fullmatch(r"stasis \S+\n", res.stdout), str(res)


@pytest.mark.parametrize("option", ["--lazy-pages", "--page-server", "--cgroup-yard"])
def test_unknown_option_is_a_clean_error(tmp_path: Path, option: str) -> None:
    res = stasis("dump", "-t", "1", "-D", tmp_path, "-o", "dump.log", option)
    line = clean_error(res)
    assert option in line, line
    assert res.stdout == "", str(res)


def test_unknown_action_is_a_clean_error() -> None:
    line = clean_error(stasis("frobnicate"))
    assert "frobnicate" in line


@needs_root
def test_log_written_when_dump_fails(tmp_path: Path) -> None:
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    pid = next(p for p in range(pid_max - 1, 1, -1) if not Path(f"/proc/{p}").exists())
    res = stasis("dump", "-t", str(pid), "-D", tmp_path, "-o", "dump.log", "-v4")
    line = clean_error(res)
    assert str(pid) in line
    lines = log_lines(tmp_path / "dump.log")
    assert any("Error: " in entry and str(pid) in entry for entry in lines), lines


def test_log_written_when_restore_fails(tmp_path: Path) -> None:
    res = stasis("restore", "-D", tmp_path, "-o", "restore.log", "-v4", "-d")
    line = clean_error(res)
    assert "inventory.img" in line, line
    lines = log_lines(tmp_path / "restore.log")
    assert any(entry.split(") ", 1)[1].startswith("Error: ") for entry in lines), lines


def test_log_relative_to_work_dir(tmp_path: Path) -> None:
    images, work = tmp_path / "img", tmp_path / "work"
    images.mkdir()
    work.mkdir()
    res = stasis("restore", "-D", images, "-W", work, "-o", "restore.log", "-v4")
    clean_error(res)
    assert (work / "restore.log").exists()
    assert not (images / "restore.log").exists()
    res = stasis("restore", "-D", images, "-o", "restore2.log", "-v4")
    clean_error(res)
    assert (images / "restore2.log").exists()


def test_log_dir_missing_is_a_clean_error(tmp_path: Path) -> None:
    res = stasis("restore", "-D", tmp_path / "nope", "-o", "restore.log")
    line = clean_error(res)
    assert "restore.log" in line


# --- criu's spellings, each on a real dump with -R ---------------------------------------------------

def _dump_log(counter: Target, tmp_path: Path, *opts: str) -> list[str]:
    images = tmp_path / "img"
    images.mkdir()
    res = stasis("dump", "-t", str(counter.pid), "-D", images, "-o", "dump.log", "-R", *opts)
    assert res.returncode == 0, str(res)
    assert (images / "inventory.img").exists()
    return log_lines(images / "dump.log")


@needs_root
def test_no_default_config_twice(counter: Target, tmp_path: Path) -> None:
    _dump_log(counter, tmp_path, "--no-default-config", "--no-default-config", "-v4")


@needs_root
def test_verbosity_zero_one_dash(counter: Target, tmp_path: Path) -> None:
    lines = _dump_log(counter, tmp_path, "-verbosity=0")
    assert lines == [], f"-verbosity=0 should log nothing for a good dump:\n{lines}"


@needs_root
@pytest.mark.parametrize("opts", [("--verbosity=4",), ("-v4",), ("-vvv",), ("--verbosity", "4")],
                         ids=" ".join)
def test_debug_verbosity(counter: Target, tmp_path: Path, opts: tuple[str, ...]) -> None:
    debug = _dump_log(counter, tmp_path, *opts)
    (tmp_path / "v3").mkdir()
    info = _dump_log(counter, tmp_path / "v3", "--verbosity=3")
    assert info, "--verbosity=3 logged nothing"
    assert any(line.split(") ", 1)[1].startswith("stasis ") for line in info), info
    assert len(debug) > len(info), f"{opts} logs no more than --verbosity=3"


@needs_root
def test_v3_logs_more_than_v2(counter: Target, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    v2 = _dump_log(counter, tmp_path / "a", "-verbosity=2")
    v3 = _dump_log(counter, tmp_path / "b", "-v")  # criu: bare -v is one above the default 2
    assert len(v3) > len(v2), (v2, v3)


# --- check -------------------------------------------------------------------------------------------

def test_check_prints_features() -> None:
    res = stasis("check")
    assert res.returncode == 0, str(res)
    rows = [line.split(None, 2) for line in res.stdout.splitlines() if re.match(r"^(yes|NO)\s", line)]
    names = {row[1] for row in rows}
    assert {"pagemap_scan", "clone3_set_tid"} <= names, res.stdout
    assert all(len(row) == 3 and row[2] for row in rows), res.stdout  # each says what it is


def test_check_feature_present() -> None:
    res = stasis("check", "--feature", "pagemap_scan")
    assert res.returncode == 0, str(res)


def test_check_unknown_feature() -> None:
    res = stasis("check", "--feature", "no_such_feature")
    line = clean_error(res)
    assert "no_such_feature" in line


# --- show --------------------------------------------------------------------------------------------

@needs_root
def test_show_dump_dir(counter: Target, tmp_path: Path) -> None:
    images = tmp_path / "img"
    images.mkdir()
    res = stasis("dump", "-t", str(counter.pid), "-D", images, "-o", "dump.log")
    assert res.returncode == 0, str(res)
    counter.reap_dumped()
    res = stasis("show", images)
    assert res.returncode == 0, str(res)
    doc = json.loads(res.stdout)
    assert doc["pstree.img"]["magic"] == "PSTREE"
    assert doc["pstree.img"]["entries"][0]["pid"] == counter.pid
    assert doc[f"core-{counter.pid}.img"]["entries"][0]["tc"]["comm"] == "python3"
    res = stasis("show", images / "pstree.img")
    assert res.returncode == 0, str(res)
    assert json.loads(res.stdout)["entries"][0]["pid"] == counter.pid


def test_show_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    line = clean_error(stasis("show", tmp_path / "pstree.img", "-D", tmp_path, "-o", "show.log"))
    assert "pstree.img" in line
    assert (tmp_path / "show.log").exists()


@pytest.mark.parametrize("action", ["show", "restore"])
def test_error_without_log_file_is_one_line(tmp_path: Path, action: str) -> None:
    args = ("show", tmp_path / "pstree.img") if action == "show" else ("restore", "-D", tmp_path)
    line = clean_error(stasis(*args))
    assert ".img" in line
