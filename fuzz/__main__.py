"""`python -m fuzz [--cases N] [--seed S] [--out DIR]` (tox -e fuzz): mutated images of real dumps.

Each case copies one base dump, damages one image file (fuzz.mutate), and runs `stasis show` on the file
and `stasis restore -d` on the directory, twice: with the digests as the dump wrote them (the damage must be
refused before anything is read) and with the digests rewritten to match (the damage reaches every reader
and restore stage). Every run must end in success (the restored tree is then killed by its PIDs) or exit 1
with one line on stderr — no traceback, no "internal error", no hang, no process left behind. Findings
are kept under OUT/findings/<case>/ with the images and the engine's output; the exit status is 1 if any.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from engine.images import digest
from engine.images.reader import read_image
from fuzz import escalate, mutate, targets
from zdtm import unpriv

REPO = str(Path(__file__).resolve().parents[1])
UNPRIV_UID = 1000  # the unprivileged restorer: the uid of the "unpriv" target, with CAP_CHECKPOINT_RESTORE
ESCALATE_SHARE = 0.4  # of the cases on the unpriv target: an escalation edit restored --unprivileged

TIMEOUT = 30.0
PR_SET_CHILD_SUBREAPER = 36


def engine(*args: str | Path) -> tuple[int | None, str]:
    """(exit status or None on a hang, stderr)."""
    try:
        res = subprocess.run([sys.executable, "-m", "engine", *map(str, args)], capture_output=True,
                             text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return None, err
    return res.returncode, res.stderr


def engine_as_user(*args: str | Path) -> tuple[int | None, str]:
    """The engine as uid 1000 with CAP_CHECKPOINT_RESTORE and CAP_SYS_PTRACE (ambient)."""
    argv, env = unpriv.engine_command(REPO)
    try:
        res = subprocess.run([*argv, *map(str, args)], capture_output=True, text=True, timeout=TIMEOUT,
                             stdin=subprocess.DEVNULL, env=env, cwd="/",
                             preexec_fn=unpriv.preexec(UNPRIV_UID))
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return None, err
    return res.returncode, res.stderr


def give_to_user(case: Path) -> None:
    for p in [case, *case.iterdir()]:
        os.chown(p, UNPRIV_UID, UNPRIV_UID)


def more_than_restorer(pid: int) -> str | None:
    """What a process restored --unprivileged from the unpriv target has beyond it (None: nothing)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            st = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    except OSError:
        return None
    ids = st["Uid"].split() + st["Gid"].split()
    if ids != [str(UNPRIV_UID)] * 8:
        return f"uid/gid {st['Uid']} / {st['Gid']}"
    for name in ("CapPrm", "CapEff", "CapInh", "CapAmb"):
        if int(st[name], 16):
            return f"{name} {st[name]}"
    # Seccomp 3 is the kernel's SECCOMP_MODE_DEAD: a filter (a damaged one) is killing it: less, not more
    if st.get("NoNewPrivs") != "1" or st.get("Seccomp") not in ("2", "3"):
        return f"NoNewPrivs {st.get('NoNewPrivs')} Seccomp {st.get('Seccomp')}"
    return None


ESCALATED: Counter[str] = Counter()  # escalation kind -> cases
ESCALATED_BAD: Counter[str] = Counter()  # ... not refused with its message


def run_unpriv_restore(case: Path) -> tuple[int | None, str, str | None]:
    """restore --unprivileged as uid 1000: (status, stderr, what the restored tree has beyond it)."""
    case = case.resolve()  # the user's engine runs in /
    give_to_user(case)
    pidfile = case / "restored.pid"
    rc, err = engine_as_user("restore", "-d", "-D", case, "--unprivileged", "--pidfile", pidfile)
    extra = None
    if rc == 0:
        try:
            extra = more_than_restorer(int(pidfile.read_text()))
        except (OSError, ValueError):
            extra = None
    return rc, err, extra


def escalation_case(n: int, base: Path, work: Path, rnd: random.Random,
                    out: Path) -> list[tuple[str, str, str]]:
    """One of fuzz/escalate.py's edits of the unpriv target's images, digests rewritten, restored
    --unprivileged: it must be refused in one line with its message, leaving nothing behind."""
    case = work / f"case{n}"
    shutil.copytree(base, case)
    kind = rnd.choice(sorted(escalate.ESCALATIONS))
    scratch = work / f"scratch{n}"
    what = escalate.apply(kind, case, rnd, scratch)
    os.chown(scratch, UNPRIV_UID, UNPRIV_UID)
    digest.refresh(case, None)
    before = descendants()
    rc, err, extra = run_unpriv_restore(case)
    OUTCOMES[f"escalation restore {'hang' if rc is None else rc}"] += 1
    problem = verdict(rc, err)
    left = kill_new(before)
    if rc == 0:
        problem = problem or f"escalation: restored ({extra or 'nothing beyond the restorer visible'})"
    elif rc == 1 and escalate.ESCALATIONS[kind][1] not in err:
        problem = problem or f"refused for another reason than expected ({escalate.ESCALATIONS[kind][1]!r})"
    if rc == 1 and left:
        problem = problem or f"processes left behind after a failed restore: {left}"
    ESCALATED[kind] += 1
    findings = []
    if problem:
        ESCALATED_BAD[kind] += 1
        findings.append((f"escalate-{kind}", f"unprivileged restore: {problem} ({what})", err[-3000:]))
        keep = out / "findings" / f"case{n}"
        shutil.copytree(case, keep, dirs_exist_ok=True)
        (keep / "findings.txt").write_text("\n\n".join(f"{w}\n{e}" for _, w, e in findings))
    shutil.rmtree(case, ignore_errors=True)
    shutil.rmtree(scratch, ignore_errors=True)
    return findings if findings else [(f"escalate-{kind}", what, "ok")]


def descendants() -> set[int]:
    me, out = os.getpid(), set()
    parents: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    parents[int(name)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    for pid in parents:
        p, hops = pid, 0
        while p > 1 and hops < 64:
            p, hops = parents.get(p, 0), hops + 1
            if p == me:
                out.add(pid)
                break
    return out


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True  # gone


def kill_new(before: set[int]) -> list[int]:
    """Kill and reap what appeared below us since `before` (by PID: they are ours, we are their reaper).
    Returns the ones that were alive: a zombie was killed already (a failed restore kills what it made;
    one whose parent died as it was let go came to us, the subreaper, to be reaped)."""
    new = sorted(descendants() - before)
    alive = [p for p in new if not _zombie(p)]
    for pid in new:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while descendants() - before and time.monotonic() < deadline:
        targets.reap_all()
        time.sleep(0.02)
    targets.reap_all()
    return alive


def rewrite_digests(images: Path) -> None:
    digest.refresh(images, None)


def verdict(rc: int | None, err: str) -> str | None:
    """None when the run behaved; else what is wrong."""
    if rc is None:
        return "hang"
    if "Traceback" in err:
        return "traceback"
    if "internal error" in err:
        return "internal error"
    if rc not in (0, 1):
        return f"exit status {rc}"
    if rc == 1 and len(err.strip().splitlines()) != 1:
        return "not one line on stderr"
    return None


def same_meaning(base: Path, target: Path) -> bool:
    """A mutated image that decodes to the very entries of the original (a bit of a non-minimal varint,
    say): nothing was damaged, and its digest (over the decoded inventory, for the inventory) may agree."""
    try:
        _, a = read_image(base / target.name)
        _, b = read_image(target)
    except Exception:  # noqa: BLE001 - not an image that decodes: raw bytes (pages) are compared as bytes
        return (base / target.name).read_bytes() == target.read_bytes()
    return [(e.message, e.extra) for e in a] == [(e.message, e.extra) for e in b]


OUTCOMES: Counter[str] = Counter()  # "<variant> <action> <exit status>": how deep the damage got


def run_case(n: int, base: Path, work: Path, rnd: random.Random, out: Path) -> list[tuple[str, str, str]]:
    case = work / f"case{n}"
    shutil.copytree(base, case)
    # an empty image (an nftables-*.img of no ruleset) has no byte a flip could change: damage would be none
    files = sorted(p for p in case.iterdir() if p.is_file() and p.stat().st_size)
    target = rnd.choice(files)
    data = target.read_bytes()
    how = rnd.choice(["flip", "truncate", "extend", "huge-size", "field", "field", "field"])
    if how == "field":
        new, how = mutate.field_value(target, data, rnd)
    else:
        new = mutate.RAW[how](data, rnd)
    if new == data:  # a field set to the value it had: damage it for real
        new, how = mutate.flip(data, rnd), "flip"
    target.write_bytes(new)
    kind = target.name.split("-")[0].removesuffix(".img")
    findings: list[tuple[str, str, str]] = []
    for variant in ("checked", "rewritten"):
        if variant == "rewritten":
            try:
                rewrite_digests(case)
            except Exception:  # noqa: BLE001 - an inventory too damaged to rewrite: its own refusal suffices
                continue
        for action in ("show", "restore"):
            before = descendants()
            args: tuple[str | Path, ...] = ("show", target) if action == "show" else (
                "restore", "-d", "-D", case, "--pidfile", case / "restored.pid")
            rc, err = engine(*args)
            OUTCOMES[f"{variant} {action} {'hang' if rc is None else rc}"] += 1
            what = verdict(rc, err)
            left = kill_new(before)
            if rc == 1 and left and action == "restore":
                what = what or f"processes left behind after a failed restore: {left}"
            if rc == 0 and variant == "checked" and action == "restore" and not same_meaning(base, target):
                what = what or "a damaged image set was restored (its digests did not catch the damage)"
            (case / "restored.pid").unlink(missing_ok=True)
            if what:
                findings.append((kind, f"{variant} {action}: {what} ({how} in {target.name})", err[-3000:]))
        if variant == "rewritten" and base.name == "unpriv":  # and as the non-root restorer
            before = descendants()
            rc, err, extra = run_unpriv_restore(case)
            OUTCOMES[f"rewritten unpriv-restore {'hang' if rc is None else rc}"] += 1
            what = verdict(rc, err)
            left = kill_new(before)
            if rc == 1 and left:
                what = what or f"processes left behind after a failed restore: {left}"
            if extra:
                what = what or f"escalation: the restored process has {extra}"
            (case / "restored.pid").unlink(missing_ok=True)
            if what:
                findings.append((kind, f"rewritten unpriv-restore: {what} ({how} in {target.name})",
                                 err[-3000:]))
    if findings:
        keep = out / "findings" / f"case{n}"
        shutil.copytree(case, keep, dirs_exist_ok=True)
        (keep / "findings.txt").write_text("\n\n".join(f"{w}\n{e}" for _, w, e in findings))
    shutil.rmtree(case, ignore_errors=True)
    return findings if findings else [(kind, how, "ok")]


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m fuzz")
    p.add_argument("--cases", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=Path("build/fuzz"))
    p.add_argument("--targets", default=",".join(targets.TARGETS))
    a = p.parse_args()
    a.out = a.out.resolve()
    if os.geteuid() != 0:
        print("fuzz: needs root (it restores real processes)", file=sys.stderr)
        return 2
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("fuzz: cannot become a child subreaper", file=sys.stderr)
        return 2
    shutil.rmtree(a.out, ignore_errors=True)
    a.out.mkdir(parents=True)
    bases = [targets.make_dump(name, a.out / "bases") for name in a.targets.split(",")]
    rnd = random.Random(a.seed)
    cases: Counter[str] = Counter()
    bad: Counter[str] = Counter()
    found: list[str] = []
    t0 = time.monotonic()
    for n in range(a.cases):
        base = rnd.choice(bases)
        run = escalation_case if base.name == "unpriv" and rnd.random() < ESCALATE_SHARE else run_case
        for kind, what, err in run(n, base, a.out, rnd, a.out):
            if err == "ok":
                cases[kind] += 1
            else:
                cases[kind] += 1
                bad[kind] += 1
                found.append(f"case {n}: {what}: {err.strip().splitlines()[-1] if err.strip() else ''}")
    print(f"{a.cases} cases in {time.monotonic() - t0:.0f} s (seed {a.seed}); by image kind:")
    for kind in sorted(cases):
        print(f"  {kind:20} {cases[kind]:5} cases, {bad[kind]:3} with findings")
    print("outcomes: " + ", ".join(f"{k}: {v}" for k, v in sorted(OUTCOMES.items())))
    if ESCALATED:
        print("escalation edits restored --unprivileged as uid 1000, by kind (cases; not refused as "
              "expected):")
        for kind in sorted(ESCALATED):
            print(f"  {kind:20} {ESCALATED[kind]:5} cases, {ESCALATED_BAD[kind]:3} not refused")
    for line in found:
        print(line)
    print(f"{len(found)} findings" + (f" (kept in {a.out}/findings)" if found else ""))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
