"""--zdtm-junit FILE: one testsuite per flavor, named zdtm-<flavor>-<kernel release>, written by the
controller (under xdist, pytest_runtest_logreport runs there with every worker's reports)."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

XFAIL_TYPE = "pytest.xfail"


def suite_name(flavor: str, kernel: str | None = None) -> str:
    return f"zdtm-{flavor}-{kernel or platform.release()}"


@dataclass
class CaseRecord:
    test: str
    flavor: str
    time: float = 0.0
    outcome: str = "pass"  # pass, fail, error, skip, xfail
    message: str = ""
    details: str = ""
    logs: list[tuple[str, str]] = field(default_factory=list)


def _skip_reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr or "")


class JunitWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.cases: dict[str, CaseRecord] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        if "zdtm_test" not in props:
            return
        case = self.cases.setdefault(report.nodeid, CaseRecord(props["zdtm_test"], props["zdtm_flavor"]))
        case.time += report.duration
        if report.passed and report.when != "call":
            return
        if hasattr(report, "wasxfail"):
            if report.skipped:
                case.outcome, case.message = "xfail", report.wasxfail
            return  # a non-strict xpass is a pass
        if report.failed:
            case.outcome = "fail" if report.when == "call" else "error"
            case.details = report.longreprtext
            # under xdist the text starts with a "[gwN] linux -- Python ..." line: not the message
            lines = [ln for ln in case.details.splitlines() if ln.strip() and not ln.startswith("[gw")]
            case.message = (lines[0] if lines else "failed")[:500]
            case.logs = [
                (t, c) for t, c in report.sections if not t.startswith("Captured")
            ] or report.sections
        elif report.skipped:
            case.outcome, case.message = "skip", _skip_reason(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        write(self.cases.values(), self.path)


def to_testcase(case: CaseRecord) -> TestCase:
    tc = TestCase(case.test, f"zdtm.{case.flavor}", round(case.time, 3))
    if case.outcome == "fail":
        tc.result = [Failure(case.message)]
    elif case.outcome == "error":
        tc.result = [Error(case.message)]
    elif case.outcome == "skip":
        tc.result = [Skipped(case.message)]
    elif case.outcome == "xfail":
        tc.result = [Skipped(case.message, XFAIL_TYPE)]
    if case.outcome in ("fail", "error"):
        tc.result[0].text = case.details
        tc.system_out = "\n".join(f"----- {title} -----\n{content}" for title, content in case.logs)
    return tc


def write(cases, path: Path) -> None:
    suites: dict[str, TestSuite] = {}
    for case in sorted(cases, key=lambda c: (c.flavor, c.test)):
        name = suite_name(case.flavor)
        suite = suites.setdefault(name, TestSuite(name))
        suite.add_testcase(to_testcase(case))
    xml = JUnitXml("zdtm")
    for suite in suites.values():
        suite.update_statistics()
        xml.add_testsuite(suite)
    xml.update_statistics()
    path.parent.mkdir(parents=True, exist_ok=True)
    xml.write(str(path))
