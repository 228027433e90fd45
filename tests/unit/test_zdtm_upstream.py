"""The harness runs programs written for upstream's ZDTM protocol as they are: upstream's per-test
arguments and defines by name, sibling sources of local headers compiled in, desc values as upstream's
driver reads them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from zdtm import build, upstream
from zdtm.desc import DescError, parse_desc


def desc(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "t.desc"
    p.write_text(text)
    return p


@pytest.mark.parametrize(("text", "timeout"), [("{'timeout': '60'}", 60), ("{'timeout': 45}", 45),
                                               ("{'timeout': ''}", 30), ("{}", 30)])
def test_timeout_as_upstream_reads_it(tmp_path: Path, text: str, timeout: int) -> None:
    assert parse_desc(desc(tmp_path, text)).timeout == timeout


@pytest.mark.parametrize("text", ["{'timeout': 'soon'}", "{'timeout': -1}", "{'timeout': True}"])
def test_bad_timeouts_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(DescError, match="timeout"):
        parse_desc(desc(tmp_path, text))


def test_upstream_arguments_by_name(tmp_path: Path) -> None:
    src = tmp_path / "fifo-rowo-pair.c"
    src.write_text("int main(void) { return 0; }\n")
    args = build.program_args(src, parse_desc(tmp_path / "none.desc"))
    assert args == ["--pidfile=fifo-rowo-pair.pid", "--outfile=fifo-rowo-pair.out",
                    "--name_master=fifo-rowo-pair.master.test", "--name_slave=fifo-rowo-pair.slave.test"]
    umask = tmp_path / "umask00.c"
    umask.write_text('TEST_OPTION(filename, string, "x", 1);\n')
    assert build.program_args(umask, parse_desc(tmp_path / "none.desc"))[2:] == ["--filename=umask00.test",
                                                                                 "--mask=0345"]
    assert upstream.cflags("socket-tcp6-fin-wait1") == ["-DZDTM_TCP_FIN_WAIT1", "-DZDTM_IPV6"]


def test_sibling_source_of_a_local_header_is_compiled_in(tmp_path: Path) -> None:
    (tmp_path / "helper_bits.h").write_text("int helper_value(void);\n")
    (tmp_path / "helper_bits.c").write_text('#include "helper_bits.h"\n'
                                            'int helper_value(void) { return 42; }\n')
    src = tmp_path / "uses_helper.c"
    src.write_text('#include "helper_bits.h"\nint main(void) { return helper_value() == 42 ? 0 : 1; }\n')
    assert build._aux_sources(src) == [tmp_path / "helper_bits.c"]
    out = tmp_path / "bin"
    res = subprocess.run([build.CC, *build.CFLAGS, "-o", str(out), str(src),
                          *map(str, build._aux_sources(src))], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert subprocess.run([str(out)]).returncode == 0
