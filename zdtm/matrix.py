"""The kernel matrix: the suite (or a subset) on other kernels, booted in qemu on the host's file system.

    python -m zdtm.matrix                                  # the smoke set, flavor h: 5.10 6.1 6.12 7 host
    python -m zdtm.matrix --kernels 6.1 --set smoke -k pipe
    python -m zdtm.matrix --kernels 6.1 --set lts          # the programs of what older kernels lack
    python -m zdtm.matrix --kernels 6.1,host static/heap00.c static/cow00.c --flavor h,ns
    python -m zdtm.matrix --setup-only                     # Debian packages, kernels: nothing run
    tox -e matrix -- --kernels 6.1                          # the same, virtme-ng from tox's venv

Kernels are Debian's own packages from the machine's apt sources (`6.1` and `6.12` are bookworm's:
linux-image-<series>...-amd64-unsigned, the newest of the series; `5.10` is bullseye-security's, through a
private apt configuration as for virtiofsd below; `7` or `7.N` is trixie-backports' newest, split by Debian
into linux-binary-VER and linux-modules-VER, both unpacked in one folder), fetched with `apt-get download`
into build/matrix/kernels/ and unpacked there with `dpkg -x` (never installed); `host` is the running
kernel, no VM. Each kernel is booted with virtme-ng (`vng`, software emulation: KVM does not work on
this kind of machine, see docs) with the host's / read-only and build/ writable; inside, the test
programs run from binaries built on the host beforehand (compiling in the guest is ~100x slower),
items' work dirs on the guest's own tmpfs (ZDTM_RUN_DIR; 9p cannot create files for the test uid),
copied back to build/matrix/<kernel>/run afterwards. Per kernel, build/matrix/<kernel>/ holds
check.txt (`stasis check` there), junit.xml, pytest.log, console.log; the merged table (zdtm.report:
test x flavor x kernel) and the features each kernel lacks are printed and written to
build/matrix/report.txt, the merged junit to build/matrix/matrix-junit.xml.

Set-up (`setup()`, run first unless --no-setup): the Debian packages qemu-system-x86, kmod (depmod for
the unpacked modules), udev (the guest finds its virtio ports with it), busybox-static (virtme-ng's
initramfs); `vng` from PyPI's virtme-ng must be on PATH (tox -e matrix installs it). The root file
system goes to the guest over virtiofs (`--transport virtiofs`, the default; 9p is ~2x slower): vng
wants the Rust virtiofsd, which bookworm lacks, so trixie's package and the trixie libc it needs are
fetched through a private apt configuration under build/matrix/apt/trixie (own source list, lists
and cache; /etc/apt untouched), unpacked under build/matrix/virtiofsd/ and started through trixie's
own loader by a two-line wrapper named virtiofsd, early on vng's PATH.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from zdtm import report
from zdtm.groups import group_for
from zdtm.layout import REPO_ROOT

WORK = REPO_ROOT / "build" / "matrix"
APT_PACKAGES = ("qemu-system-x86", "kmod", "udev", "busybox-static")
DEFAULT_KERNELS = "5.10,6.1,6.12,7,host"

# ~15 programs that cover the engine's core on any kernel: memory of each kind (heap, COW between
# processes, private file pages, shared anonymous, memfd), the tree (sessions, zombies, threads),
# fds (pipes, offsets), signals, timers, rseq, and one program that keeps running across C/R.
SETS: dict[str, tuple[str, ...]] = {
    "smoke": (
        "static/env00.c", "static/heap00.c", "static/cow00.c", "static/filemap_private00.c",
        "static/shmanon00.c", "static/memfd00.c", "static/maps00.c", "static/session00.c",
        "static/zombie00.c", "static/thread00.c", "static/pipe00.c", "static/fd_offsets00.c",
        "static/sigaction00.c", "static/posix_timer00.c", "static/rseq00.c", "static/sleeping00.c",
        "transition/mem_churn00.c",
    ),
}
# what older kernels lack or show differently (fdinfo lines, prctls, ptrace requests, madvise, xstate):
# every program of these kinds, for a kernel that is new to the matrix
LTS_PREFIXES = ("eventfd", "evfd", "signalfd_fork", "timerfd", "memfd", "io_uring", "inotify", "fanotify",
                "fpu", "avx", "amx", "sud", "guard", "membarrier", "mdwe", "posix_timer", "rseq", "anon_name",
                "mseal", "droppable", "memory_merge", "madv")
SETS["lts"] = tuple(sorted(f"{p.parent.name}/{p.name}" for d in ("static", "transition")
                           for p in (REPO_ROOT / d).glob("*.c") if p.name.startswith(LTS_PREFIXES)))


@dataclass(frozen=True)
class Kernel:
    label: str  # as asked for: "6.1", "6.12", "host"
    release: str  # uname -r inside
    vmlinuz: Path | None  # None: the running kernel, no VM


def log(msg: str) -> None:
    print(f"matrix: {msg}", file=sys.stderr, flush=True)


# -- set-up -----------------------------------------------------------------------------------------
def _installed(pkg: str) -> bool:
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
    return r.returncode == 0 and r.stdout.endswith(" installed")


def setup() -> None:
    """The Debian packages the VMs need (installed on the host once), and vng on PATH."""
    missing = [p for p in APT_PACKAGES if not _installed(p)]
    if missing:
        log(f"installing Debian packages: {' '.join(missing)}")
        cmd = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
        if subprocess.run(cmd).returncode != 0:
            subprocess.run(["apt-get", "update"], check=True)
            subprocess.run(cmd, check=True)
    if not shutil.which("vng"):
        raise SystemExit("matrix: vng (PyPI virtme-ng) is not on PATH: `tox -e matrix` installs it, or "
                         "`pip install virtme-ng`")


VIRTIOFSD_DEBS = ("virtiofsd", "libc6", "libgcc-s1", "libseccomp2", "libcap-ng0")


# kernel series that are not in the machine's apt sources: (archive, suite) they come from
OTHER_SUITES = {"5.10": ("http://deb.debian.org/debian-security", "bullseye-security")}
# from 7.0 Debian splits a kernel into linux-binary-VER (vmlinuz under usr/lib/modules/VER/) and
# linux-modules-VER; trixie-backports has them
SPLIT_SUITE = ("http://deb.debian.org/debian", "trixie-backports")


def _split(series: str) -> bool:
    return series.split(".")[0].isdigit() and int(series.split(".")[0]) >= 7


def private_apt(suite: str, archive: str = "http://deb.debian.org/debian") -> list[str]:
    """apt-get options for another suite of the Debian archive, in a folder of its own."""
    base = WORK / "apt" / suite
    for d in ("lists/partial", "cache/archives/partial", "parts"):
        (base / d).mkdir(parents=True, exist_ok=True)
    (base / "sources.list").write_text("deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
                                       f"{archive} {suite} main\n")
    opts = ["-o", f"Dir::Etc::SourceList={base}/sources.list", "-o", f"Dir::Etc::SourceParts={base}/parts",
            "-o", f"Dir::State::Lists={base}/lists", "-o", f"Dir::Cache={base}/cache"]
    if not any((base / "lists").glob("*Packages*")):
        subprocess.run(["apt-get", *opts, "update"], check=True, stdout=subprocess.DEVNULL)
    return opts


def virtiofsd() -> Path | None:
    """A directory holding a working `virtiofsd` (trixie's, through its own loader), or None."""
    bindir = WORK / "virtiofsd" / "bin"
    wrapper = bindir / "virtiofsd"
    if not wrapper.exists():
        try:
            opts = private_apt("trixie")
            dl = WORK / "apt" / "trixie" / "dl"
            dl.mkdir(exist_ok=True)
            subprocess.run(["apt-get", *opts, "download", *VIRTIOFSD_DEBS], cwd=dl, check=True,
                           stdout=subprocess.DEVNULL)
        except (OSError, subprocess.CalledProcessError) as exc:
            log(f"virtiofsd: could not fetch trixie's ({exc}): 9p it is")
            return None
        root = WORK / "virtiofsd" / "root"
        root.mkdir(parents=True, exist_ok=True)
        for deb in sorted(dl.glob("*.deb")):
            subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
        bindir.mkdir(parents=True, exist_ok=True)
        lib = root / "usr/lib/x86_64-linux-gnu"
        wrapper.write_text(f"#!/bin/sh\nexec {lib}/ld-linux-x86-64.so.2 --library-path {lib} "
                           f"{root}/usr/libexec/virtiofsd \"$@\"\n")
        wrapper.chmod(0o755)
    if subprocess.run([str(wrapper), "--version"], capture_output=True).returncode != 0:
        log("virtiofsd: the unpacked one does not run here: 9p it is")
        return None
    return bindir


# -- kernels ----------------------------------------------------------------------------------------
def _version_key(name: str) -> list[tuple[int, str]]:
    return [(int(x), "") if x.isdigit() else (-1, x) for x in re.findall(r"\d+|[a-z]+", name)]


def package_for(series: str, apt_opts: list[str] | None = None) -> str:
    """The newest kernel image package of a series in the apt sources (no cloud or rt flavours):
    linux-image-<series>...-amd64-unsigned, or linux-binary-<series>...-amd64 from 7.0."""
    if _split(series):
        pattern = rf"^linux-binary-{re.escape(series)}[.-][0-9][^ ]*-amd64$"
    else:
        pattern = rf"^linux-image-{re.escape(series)}[.-][0-9][^ ]*-amd64-unsigned$"
    out = subprocess.run(["apt-cache", *(apt_opts or []), "search", "--names-only", pattern],
                         capture_output=True, text=True, check=True).stdout
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    names = [n for n in names if not re.search(r"-(cloud|rt)-amd64", n)]
    if not names:
        raise SystemExit(f"matrix: no kernel package for {series!r} in the apt sources (pattern {pattern})")
    return max(names, key=_version_key)


def fetch(series: str) -> Kernel:
    if series == "host":
        return Kernel("host", os.uname().release, None)
    if _split(series):
        opts = private_apt(SPLIT_SUITE[1], SPLIT_SUITE[0])
    elif series in OTHER_SUITES:
        opts = private_apt(OTHER_SUITES[series][1], OTHER_SUITES[series][0])
    else:
        opts = []
    pkg = package_for(series, opts)
    release = pkg.removeprefix("linux-image-").removeprefix("linux-binary-").removesuffix("-unsigned")
    pkgs = [pkg, f"linux-modules-{release}"] if _split(series) else [pkg]
    kdir = WORK / "kernels" / release
    vmlinuz = (kdir / "usr/lib/modules" / release / "vmlinuz" if _split(series)
               else kdir / "boot" / f"vmlinuz-{release}")
    if not vmlinuz.exists():
        dl = WORK / "kernels" / "dl"
        dl.mkdir(parents=True, exist_ok=True)
        tmp = kdir.with_name(kdir.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        for name in pkgs:
            debs = sorted(dl.glob(f"{name}_*.deb"))
            if not debs:
                log(f"apt-get download {name}")
                subprocess.run(["apt-get", *opts, "download", name], cwd=dl, check=True)
                debs = sorted(dl.glob(f"{name}_*.deb"))
            subprocess.run(["dpkg", "-x", str(debs[-1]), str(tmp)], check=True)
        tmp.rename(kdir)
    if not vmlinuz.exists():
        raise SystemExit(f"matrix: {', '.join(pkgs)} hold no {vmlinuz.relative_to(kdir)}")
    return Kernel(series, release, vmlinuz)


# -- running ----------------------------------------------------------------------------------------
def prebuild(paths: list[Path]) -> None:
    """Compile the programs on the host: the guest finds them up to date (same hashes)."""
    from zdtm.build import build_program

    for p in paths:
        build_program(p.parent.name, p)


def guest_script(out: Path, paths: list[Path], flavor: str, keyword: str | None, workers: int,
                 in_vm: bool) -> str:
    venv_bin = Path(sys.executable).parent  # not resolved: the venv's own bin (stasis, pytest)
    run_dir = "/tmp/zdtm-run" if in_vm else str(out / "run")
    pytest = ["python", "-m", "pytest", "-p", "xdist", "-n", str(workers), f"--flavor={flavor}",
              f"--zdtm-junit={out}/junit.xml", "-p", "no:cacheprovider", "-q", "-rfEs"]
    if keyword:
        pytest += ["-k", keyword]
    pytest += [str(p.relative_to(REPO_ROOT)) for p in paths]
    quoted = " ".join(_sh(a) for a in pytest)
    lines = [
        "set -u",
        f"export PATH={venv_bin}:/usr/sbin:/usr/bin:/sbin:/bin",
        f"export ZDTM_RUN_DIR={run_dir}",
        "export PYTHONDONTWRITEBYTECODE=1",
        f"cd {REPO_ROOT}",
        f"rm -rf {run_dir}",
        f"mkdir -p {run_dir}",
        # a tmpfs of its own in the guest: the guest's /tmp may be an overlay, where open_by_handle_at
        # (inotify and fanotify watches found again) fails with ESTALE
        *([f"mount -t tmpfs -o mode=1777 zdtm-run {run_dir}"] if in_vm else []),
        f"echo \"kernel $(uname -r)\" > {out}/check.txt",
        f"stasis check >> {out}/check.txt 2>&1",
        "start=$(date +%s)",
        f"{quoted} > {out}/pytest.log 2>&1",
        "rc=$?",
        f"echo \"suite: $(( $(date +%s) - start )) s\" >> {out}/pytest.log",
    ]
    if in_vm:
        lines.append(f"cp -r --no-preserve=ownership,mode {run_dir} {out}/run 2>/dev/null || true")
        lines.append(f"umount {run_dir}")
    lines += [f"echo $rc > {out}/rc", "exit $rc"]
    return "\n".join(lines) + "\n"


def _sh(arg: str) -> str:
    return arg if re.fullmatch(r"[\w./=,:+-]+", arg) else "'" + arg.replace("'", "'\\''") + "'"


def run_kernel(k: Kernel, paths: list[Path], args: argparse.Namespace) -> tuple[int, float]:
    out = WORK / k.release
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    script = out / "guest.sh"
    in_vm = k.vmlinuz is not None
    script.write_text(guest_script(out, paths, args.flavor, args.keyword, args.workers, in_vm))
    if k.vmlinuz is None:
        cmd = ["sh", str(script)]
    else:
        cmd = ["vng", "--disable-kvm", "--cpus", str(args.cpus), "--memory", args.memory,
               "--rwdir", str(REPO_ROOT / "build"), "--run", str(k.vmlinuz), "--exec", f"sh {script}"]
        if args.virtiofsd is None:
            cmd.insert(1, "--force-9p")
    log(f"{k.label} ({k.release}): {' '.join(cmd[:1] + cmd[-3:])}")
    t0 = time.monotonic()
    with open(out / "console.log", "w") as console:
        env = dict(os.environ)
        if args.virtiofsd is not None:
            env["PATH"] = f"{args.virtiofsd}:{env.get('PATH', '')}"
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
                             start_new_session=True, env=env)
        try:
            rc = p.wait(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)  # the group this run started: vng and its qemu
            p.wait()
            log(f"{k.label}: timed out after {args.timeout} s")
            rc = -1
    took = time.monotonic() - t0
    log(f"{k.label}: exit {rc} in {took:.0f} s")
    return rc, took


def lacks(check_txt: Path) -> list[str]:
    """What `stasis check` said a kernel lacks, one line per feature (and how pages are found)."""
    if not check_txt.exists():
        return ["(no stasis check output: the guest did not get that far)"]
    lines = check_txt.read_text().splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.startswith("NO "):
            cost = lines[i + 1].strip().removeprefix("without it: ") if i + 1 < len(lines) else ""
            out.append(f"{line[3:].strip()}  -> {cost}")
        elif line.startswith("page scan:"):
            out.append(line)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m zdtm.matrix", description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", help="test programs (default: the --set)")
    ap.add_argument("--kernels", default=DEFAULT_KERNELS, help=f"comma list of Debian series or host "
                    f"(default {DEFAULT_KERNELS})")
    ap.add_argument("--set", default="smoke", choices=sorted(SETS) + ["all"], help="programs to run "
                    "(all: every static/ and transition/ program)")
    ap.add_argument("-k", dest="keyword", help="pytest -k expression within them")
    ap.add_argument("--flavor", default="h", help="flavors (default h)")
    ap.add_argument("-n", dest="workers", type=int, default=2, help="pytest-xdist workers inside (default 2)")
    ap.add_argument("--cpus", type=int, default=2, help="vCPUs per VM (default 2)")
    ap.add_argument("--memory", default="3G", help="memory per VM (default 3G)")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per kernel (default 1800)")
    ap.add_argument("--transport", choices=("virtiofs", "9p"), default="virtiofs",
                    help="the guest's root file system (default virtiofs; 9p if virtiofsd cannot be had)")
    ap.add_argument("--no-setup", action="store_true", help="do not install the Debian packages")
    ap.add_argument("--setup-only", action="store_true", help="set up and fetch the kernels, run nothing")
    args = ap.parse_args(argv)

    labels = [x.strip() for x in args.kernels.split(",") if x.strip()]
    if not args.no_setup and any(x != "host" for x in labels):
        setup()
    kernels = [fetch(x) for x in labels]
    args.virtiofsd = virtiofsd() if args.transport == "virtiofs" and any(k.vmlinuz for k in kernels) else None
    if args.paths:
        paths = [(REPO_ROOT / p).resolve() for p in args.paths]
    elif args.set == "all":
        paths = sorted(p for d in ("static", "transition") for p in (REPO_ROOT / d).glob("*.c")
                       if group_for(p, REPO_ROOT) is not None)  # programs only, as pytest collects them
    else:
        paths = [REPO_ROOT / p for p in SETS[args.set]]
    if args.setup_only:
        for k in kernels:
            log(f"{k.label}: {k.release} {k.vmlinuz or '(running)'}")
        return 0
    prebuild(paths)
    results = [(k, *run_kernel(k, paths, args)) for k in kernels]

    junits = [WORK / k.release / "junit.xml" for k, _, _ in results]
    matrix = report.load([j for j in junits if j.exists()])
    text = [report.table(matrix) if matrix else "(no junit written)", ""]
    for k, rc, took in results:
        text.append(f"{k.label} ({k.release}): exit {rc}, {took:.0f} s; what it lacks:")
        text += [f"  {line}" for line in lacks(WORK / k.release / "check.txt")]
    print("\n".join(text))
    (WORK / "report.txt").write_text("\n".join(text) + "\n")
    if matrix:
        report.merged_xml(matrix).write(str(WORK / "matrix-junit.xml"))
    failed = any(report.status(c) == "FAIL" for cells in matrix.values() for c in cells.values())
    return 1 if failed or any(rc != 0 for _, rc, _ in results) or not matrix else 0


if __name__ == "__main__":
    sys.exit(main())
