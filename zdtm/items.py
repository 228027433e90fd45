"""Collection nodes: a program's source file and one item per flavor, whose run is one container."""

from __future__ import annotations

import fcntl
import os
import platform
from pathlib import Path

import pytest

from zdtm import build, container, features, known_failures, real
from zdtm.build import BuildError, flocked
from zdtm.cycle import CycleResult, CycleSpec
from zdtm.desc import Desc, DescError, parse_desc
from zdtm.engine_cli import ENGINE_TIMEOUT
from zdtm.flavors import FLAVORS
from zdtm.groups import Group
from zdtm.layout import EXCL_LOCK, work_dir

LOG_TAIL = 64 * 1024  # bytes of each log attached to a failing report


class ZdtmFailure(Exception):
    def __init__(self, result: CycleResult, workdir: Path) -> None:
        super().__init__(f"FAIL at {result.step}: {result.message}")
        self.result = result
        self.workdir = workdir


class ProgramFile(pytest.File):
    """A test program's source; yields one item per selected flavor."""

    group: Group

    @classmethod
    def from_parent(cls, parent, *, path: Path, group: Group):  # type: ignore[override]
        node = super().from_parent(parent, path=path)
        node.group = group
        return node

    def collect(self):
        name = self.path.name.removesuffix(self.group.suffix)
        try:
            desc = self._desc()
        except (DescError, ImportError) as e:
            raise self.CollectError(str(e)) from None
        selected = self.config.getoption("zdtm_flavors")
        for flavor in [f for f in selected if f in desc.flavors]:
            yield ZdtmItem.from_parent(
                self,
                name=f"{name}[{flavor}]",
                nodeid=f"{self.group.name}/{name}[{flavor}]",
                test=name,
                flavor=flavor,
                desc=desc,
            )

    def _desc(self) -> Desc:
        if not self.group.real:
            return parse_desc(self.path.with_suffix(".desc"))
        try:
            program = real.load(self.path)
        except ImportError:
            raise
        except Exception as e:  # a descriptor that does not even import
            raise ImportError(f"{self.path}: {e!r}") from None
        return Desc(timeout=program.timeout, opts=tuple(program.opts), needs=program.needs)


class ZdtmItem(pytest.Item):
    def __init__(self, *, test: str, flavor: str, desc: Desc, **kwargs) -> None:
        super().__init__(**kwargs)
        self.group: Group = self.parent.group
        self.test = f"{self.group.name}/{test}"
        self.short = test
        self.flavor = flavor
        self.desc = desc
        self.user_properties += [("zdtm_test", self.test), ("zdtm_flavor", flavor)]
        self.extra_keyword_matches.add(f"{self.test}[{flavor}]")  # -k static/env00 selects by test id
        for mark in (flavor, self.group.name, *(f for f in ("excl", "crfail") if f in desc.flags)):
            self.add_marker(mark)
        self._skip_and_xfail()

    def _skip_and_xfail(self) -> None:
        cfg, desc = self.config, self.desc
        nocr = cfg.getoption("zdtm_nocr")
        if self.group.real and self.flavor not in real.FLAVORS:
            self.add_marker(pytest.mark.skip(reason=real.NS_SKIP))
        absent = real.missing(desc.needs)
        if absent:  # .ci/run installs them
            self.add_marker(
                pytest.mark.skip(reason=f"not installed: {', '.join(absent)} (.ci/run installs it)")
            )
        if desc.arch is not None and desc.arch != platform.machine():
            self.add_marker(pytest.mark.skip(reason=f"arch {desc.arch!r} is not {platform.machine()!r}"))
        if "noauto" in desc.flags:
            self.add_marker(pytest.mark.skip(reason="desc flag noauto"))
        if "reqrst" in desc.flags and cfg.getoption("zdtm_norst") and not nocr:
            self.add_marker(pytest.mark.skip(reason="desc flag reqrst under --norst"))
        if "reqrst" in desc.flags and cfg.getoption("zdtm_snaps") and not nocr:
            self.add_marker(pytest.mark.skip(reason="desc flag reqrst under --snaps"))
        if desc.nopre and (cfg.getoption("zdtm_pre") or cfg.getoption("zdtm_snaps")) and not nocr:
            self.add_marker(pytest.mark.skip(reason=f"desc nopre (no --pre/--snaps): {desc.nopre}"))
        if nocr:
            return
        if cfg.zdtm_fault_points and "crfail" in desc.flags:
            self.add_marker(pytest.mark.skip(reason="--fault-walk needs a program the engine can dump"))
        if cfg.getoption("zdtm_unpriv") and ("suid" in desc.flags or self.flavor != "h"):
            why = "it runs as root (suid)" if "suid" in desc.flags else f"flavor {self.flavor} has namespaces"
            self.add_marker(pytest.mark.skip(reason=f"--unpriv: {why}"))
        reason = FLAVORS[self.flavor].skip_cr_reason()
        if reason:
            self.add_marker(pytest.mark.skip(reason=reason))
        known = known_failures.reason(self.test, self.flavor)
        if known:
            self.add_marker(pytest.mark.xfail(reason=f"known engine failure: {known}", strict=True))

    @property
    def workdir(self) -> Path:
        return work_dir(self.flavor, self.group.name, self.short)

    def timeout(self) -> float:
        given = self.config.getoption("zdtm_timeout")
        if given:
            return float(given)
        t = self.desc.timeout
        if self.config.getoption("zdtm_nocr"):
            return 2 * t + 30
        points = self.config.zdtm_fault_points
        if points:  # a dump per point, and two restores per restore point
            runs = len(points) + 2 * sum(p.startswith("restore:") for p in points)
            return 2 * t + runs * ENGINE_TIMEOUT + len(points) * t + 30
        runs = 2 + self.config.getoption("zdtm_pre")
        return 2 * t + self.config.getoption("zdtm_iters") * (runs * ENGINE_TIMEOUT + t) + 30

    def spec(self, binary: Path) -> CycleSpec:
        cfg, desc = self.config, self.desc
        return CycleSpec(
            test=self.test,
            name=self.short,
            flavor=self.flavor,
            transition=self.group.transition,
            binary=str(binary),
            args=[] if self.group.real else build.program_args(self.path, desc),
            workdir=str(self.workdir),
            flags=sorted(desc.flags),
            opts=list(desc.opts),
            dopts=list(desc.dopts),
            ropts=list(desc.ropts),
            timeout=desc.timeout,
            bind=desc.bind,
            nocr=cfg.getoption("zdtm_nocr"),
            iters=cfg.getoption("zdtm_iters"),
            norst=cfg.getoption("zdtm_norst"),
            pre=cfg.getoption("zdtm_pre"),
            snaps=cfg.getoption("zdtm_snaps"),
            engine=cfg.zdtm_engine,
            keep_images=cfg.getoption("zdtm_keep_images"),
            real=self.group.real,
            fault_points=[] if cfg.getoption("zdtm_nocr") else list(cfg.zdtm_fault_points),
            unpriv=cfg.getoption("zdtm_unpriv"),
        )

    def runtest(self) -> None:
        self._check_deps_and_features()
        try:
            binary = self.path if self.group.real else build.build_program(self.group.name, self.path)
        except BuildError as e:
            raise ZdtmFailure(CycleResult("fail", "build", str(e)), self.workdir) from None
        # every item shares the lock; an excl item takes it alone, so it never overlaps another item
        mode = fcntl.LOCK_EX if "excl" in self.desc.flags else fcntl.LOCK_SH
        count = self.config.getoption("zdtm_count")
        failed: list[CycleResult] = []
        for _ in range(count):  # --count: a fresh program each time, in the same work dir
            with flocked(EXCL_LOCK, mode):
                result = container.run(self.spec(binary), self.timeout())
            if result.status in ("skip", "xfail"):
                break
            if result.status != "pass":
                if not failed:
                    self._attach(result)  # the first failure's logs (the work dir holds the last run's)
                failed.append(result)
        if result.status == "skip":
            pytest.skip(result.message)
        if result.status == "xfail":
            self._attach(result)
            pytest.xfail(result.message)
        if failed:
            first = failed[0]
            if count > 1:
                self.user_properties.append(("zdtm_flaky" if len(failed) < count else "zdtm_failed_all",
                                             f"{len(failed)}/{count}"))
                first = CycleResult(first.status, first.step, f"{first.message} ({len(failed)} of {count} "
                                    f"runs failed{', flaky' if len(failed) < count else ''})", first.logs)
            raise ZdtmFailure(first, self.workdir)

    def _check_deps_and_features(self) -> None:
        for dep in self.desc.deps:
            if not any(os.path.exists(alt) for alt in dep.split("|")):
                raise ZdtmFailure(CycleResult("fail", "deps", f"none of {dep!r} exists"), self.workdir)
        if self.config.getoption("zdtm_nocr"):
            return
        for feature in self.desc.features:
            if not features.supported(self.config.zdtm_engine, feature):
                pytest.skip(f"no {feature} feature")

    def _attach(self, result: CycleResult) -> None:
        for name, path in result.logs.items():
            try:
                with open(path, "rb") as f:
                    size = f.seek(0, os.SEEK_END)
                    f.seek(max(0, size - LOG_TAIL))
                    data = f.read().decode(errors="replace")
            except OSError:
                continue
            head = f"[{path}, last {LOG_TAIL} of {size} bytes]\n" if size > LOG_TAIL else f"[{path}]\n"
            self.add_report_section("call", name, head + data)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ZdtmFailure):
            e = excinfo.value
            where = f"{self.test} [{self.flavor}]"
            return f"{where}: FAIL at {e.result.step}: {e.result.message}\nwork dir: {e.workdir}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, 0, f"{self.test}[{self.flavor}]"
