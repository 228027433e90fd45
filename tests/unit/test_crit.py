"""Oracle: Debian's crit (3.17, package criu) must read the images of a real dump.

`crit show` must decode every image but the raw pages; `crit x DIR ps|fds|mems` must find the
right pid, comm, fds and exe. (`crit info` has a known bug in 3.17: not used.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import Spawner, Target, needs_root, stasis

CRIT = Path("/usr/bin/crit")
pytestmark = [
    needs_root,
    pytest.mark.skipif(not CRIT.exists(),
                       reason="/usr/bin/crit absent (apt-get install criu; CI installs it)"),
]

C_TARGET = r"""
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd = open(argv[1], O_RDONLY);
	int rw = open(argv[1], O_RDWR);
	int dir = open(".", O_RDONLY | O_DIRECTORY);
	int null = open("/dev/null", O_WRONLY);
	char *ro, *cow;
	volatile unsigned long n = 0;

	if (argc < 2 || fd < 0 || rw < 0 || dir < 0 || null < 0)
		return 1;
	ro = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
	cow = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, rw, 0);
	if (ro == MAP_FAILED || cow == MAP_FAILED)
		return 1;
	cow[4096] = ro[0] + 1; /* one COWed page of a private file mapping */
	printf("ready %d %d %d %d\n", fd, rw, dir, null);
	fflush(stdout);
	for (;;) {
		n++;
		usleep(10000);
	}
}
"""


def crit(*args: str | os.PathLike[str]) -> str:
    res = subprocess.run([str(CRIT), *map(os.fspath, args)], capture_output=True, timeout=60,
                         stdin=subprocess.DEVNULL)
    assert res.returncode == 0, f"crit {' '.join(map(os.fspath, args))} failed:\n" \
                                f"{res.stderr.decode(errors='replace')[-3000:]}"
    return res.stdout.decode(errors="replace")


@pytest.fixture(scope="module")
def c_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler (cc/gcc) to build the C target")
    d = tmp_path_factory.mktemp("cbin")
    (d / "ctarget.c").write_text(C_TARGET)
    subprocess.run([cc, "-O1", "-Wall", "-o", d / "ctarget", d / "ctarget.c"], check=True, timeout=60)
    return d / "ctarget"


@dataclass
class Dump:
    images: Path
    target: Target
    exe: str
    comm: str
    fds: dict[int, str]
    cwd: str


def _dump(t: Target, tmp: Path) -> Dump:
    exe = os.readlink(f"/proc/{t.pid}/exe")
    fds = {int(fd): os.readlink(f"/proc/{t.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{t.pid}/fd")}
    cwd = os.readlink(f"/proc/{t.pid}/cwd")
    comm = Path(f"/proc/{t.pid}/comm").read_text().rstrip("\n")
    images = tmp / "img"
    images.mkdir()
    res = stasis("dump", "-t", str(t.pid), "-D", images, "-o", "dump.log", "-v4")
    assert res.returncode == 0, str(res)
    t.reap_dumped()
    return Dump(images, t, exe, comm, fds, cwd)


@pytest.fixture(params=["python", "c"])
def dumped(request: pytest.FixtureRequest, spawn: Spawner, tmp_path: Path) -> Dump:
    if request.param == "python":
        t = spawn.python()
    else:
        binary = request.getfixturevalue("c_binary")
        data = tmp_path / "data.bin"
        data.write_bytes(os.urandom(16384))
        t = spawn([str(binary), str(data)], ready=lambda t: t.out.read_text().startswith("ready"), name="c")
    return _dump(t, tmp_path)


def test_crit_show_every_image(dumped: Dump) -> None:
    imgs = sorted(p for p in dumped.images.glob("*.img") if not p.name.startswith("pages-"))
    names = {p.name for p in imgs}
    pid = dumped.target.pid
    for must in ("inventory.img", "pstree.img", f"core-{pid}.img", f"mm-{pid}.img", "files.img"):
        assert must in names, f"{must} missing from the dump: {sorted(names)}"
    for img in imgs:
        out = crit("show", img)
        assert '"magic"' in out and '"entries"' in out, f"crit show {img.name}: {out[:500]}"


def test_crit_x_ps(dumped: Dump) -> None:
    out = crit("x", dumped.images, "ps")
    rows = [line.split() for line in out.splitlines()[1:] if line.strip()]
    pid = dumped.target.pid
    assert len(rows) == 1, out
    assert rows[0][0] == str(pid) and rows[0][-1] == dumped.comm, out
    # start_new_session: it leads its own group and session
    assert rows[0][1] == str(pid) and rows[0][2] == str(pid), out


def test_crit_x_fds(dumped: Dump) -> None:
    out = crit("x", dumped.images, "fds")
    lines = [line.strip() for line in out.splitlines()]
    assert lines[0] == str(dumped.target.pid), out
    shown = {}
    for line in lines[1:]:
        key, _, val = line.partition(": ")
        shown[key] = val
    for fd, path in dumped.fds.items():
        assert shown.get(str(fd)) == path, f"fd {fd} -> {path}: crit shows {shown.get(str(fd))!r}\n{out}"
    assert shown.get("cwd") == dumped.cwd, out
    assert shown.get("root") == "/", out


def test_crit_x_mems(dumped: Dump) -> None:
    out = crit("x", dumped.images, "mems")
    lines = [line.strip() for line in out.splitlines()]
    assert lines[0] == str(dumped.target.pid), out
    assert lines[1].split() == ["exe", dumped.exe], out
    assert any(line.endswith("[vdso]") for line in lines), out
    if "data.bin" in " ".join(dumped.fds.values()):  # the C target maps its data file twice
        data = next(p for p in dumped.fds.values() if p.endswith("data.bin"))
        mapped = [line for line in lines if line.endswith(data)]
        assert len(mapped) == 2, out
        assert {line.split()[1] for line in mapped} == {"r--", "rw-"}, out
