"""dash running a pipeline: a counter loop | cat -n | a read loop appending "n v" to out.txt.

Mid-work: out.txt grew by 50 lines. End: the file `stop` makes the counter loop end, so the pipeline drains
and the shell writes the last stage's status to `status`. Verified: every line is "n n" with n = 1, 2, ...
(nothing lost or doubled in either pipe across C/R) and the status is 0.
"""

from pathlib import Path

from zdtm.real import Real, gapless, lines

SCRIPT = """
i=0
while [ ! -e stop ]; do i=$((i+1)); echo $i; sleep 0.01; done | cat -n | while read n v; do
    echo "$n $v" >> out.txt
done
echo "exit $?" > status
"""


def progress(wd: Path) -> int:
    return len(lines(wd / "out.txt"))


def verify(wd: Path) -> list[str]:
    rows = [ln.split() for ln in lines(wd / "out.txt")]
    problems = [
        f"out.txt line {i}: {' '.join(r)!r} is not 'n n'"
        for i, r in enumerate(rows, 1)
        if len(r) != 2 or r[0] != r[1] or not r[0].isdigit()
    ][:5]
    if not problems:
        problems = gapless((int(r[0]) for r in rows), "out.txt")
    status = lines(wd / "status")
    if status != ["exit 0"]:
        problems.append(f"status: {status!r}, not ['exit 0'] (the pipeline did not end normally)")
    return problems


PROGRAM = Real(argv=["/bin/sh", "-c", SCRIPT], progress=progress, verify=verify, stop="file:stop")
