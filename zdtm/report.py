"""Merge several zdtm junit files into one matrix test x flavor x kernel:

    python -m zdtm.report A.xml B.xml ... [--out merged.xml]

Prints one row per test, one column per (flavor, kernel) suite, and the totals per column. A later file's
result for the same cell wins.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from zdtm.junit import XFAIL_TYPE

STATUSES = ("PASS", "FAIL", "SKIP", "XFAIL")


def status(case: TestCase) -> str:
    for r in case.result:
        if isinstance(r, Failure | Error):
            return "FAIL"
    for r in case.result:
        if isinstance(r, Skipped):
            return "XFAIL" if r.type == XFAIL_TYPE else "SKIP"
    return "PASS"


def _suites(path: Path) -> list[TestSuite]:
    xml = JUnitXml.fromfile(str(path))
    return [xml] if isinstance(xml, TestSuite) else list(xml)


def load(paths: list[Path]) -> dict[str, dict[str, TestCase]]:
    """suite name (zdtm-<flavor>-<kernel>) -> test -> case."""
    matrix: dict[str, dict[str, TestCase]] = {}
    for path in paths:
        for suite in _suites(path):
            if not (suite.name or "").startswith("zdtm-"):
                continue
            cells = matrix.setdefault(suite.name, {})
            for case in suite:
                cells[case.name] = case
    return matrix


def table(matrix: dict[str, dict[str, TestCase]]) -> str:
    columns = sorted(matrix, key=lambda s: (s.split("-", 2)[2], s))  # group by kernel, then flavor
    tests = sorted({t for cells in matrix.values() for t in cells})
    headers = [c.removeprefix("zdtm-") for c in columns]
    w0 = max([len("test"), *map(len, tests)])
    widths = [max(len(h), 5) for h in headers]
    lines = ["  ".join(["test".ljust(w0), *(h.ljust(w) for h, w in zip(headers, widths, strict=True))])]
    lines.append("  ".join(["-" * w0, *("-" * w for w in widths)]))
    totals = {c: Counter() for c in columns}
    for test in tests:
        row = [test.ljust(w0)]
        for col, w in zip(columns, widths, strict=True):
            case = matrix[col].get(test)
            cell = status(case) if case is not None else "-"
            if case is not None:
                totals[col][cell] += 1
            row.append(cell.ljust(w))
        lines.append("  ".join(row).rstrip())
    lines.append("  ".join(["-" * w0, *("-" * w for w in widths)]))
    for st in STATUSES:
        counts = (str(totals[c][st]).ljust(w) for c, w in zip(columns, widths, strict=True))
        lines.append("  ".join([st.ljust(w0), *counts]).rstrip())
    return "\n".join(lines)


def merged_xml(matrix: dict[str, dict[str, TestCase]]) -> JUnitXml:
    xml = JUnitXml("zdtm")
    for name in sorted(matrix):
        suite = TestSuite(name)
        for test in sorted(matrix[name]):
            suite.add_testcase(matrix[name][test])
        suite.update_statistics()
        xml.add_testsuite(suite)
    xml.update_statistics()
    return xml


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m zdtm.report", description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path, help="junit files written with --zdtm-junit")
    ap.add_argument("--out", type=Path, help="also write the merged junit XML here")
    args = ap.parse_args(argv)
    matrix = load(args.files)
    if not matrix:
        print("no zdtm-* testsuites in the given files", file=sys.stderr)
        return 1
    print(table(matrix))
    if args.out:
        merged_xml(matrix).write(str(args.out))
    return 1 if any(status(c) == "FAIL" for cells in matrix.values() for c in cells.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
