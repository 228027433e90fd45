#include <signal.h>
#include <sys/wait.h>

#include "zdtmtst.h"
#include "cgroup_util.h"

const char *test_doc = "Three processes of one tree in different cgroups: the test in group A, a child in group B "
		       "(in cgroup v2 and, where the host has it, in the v1 pids hierarchy), another child moved back "
		       "to the cgroups the test started in: after C/R each one is where it was";
const char *test_author = "Stasis developers";

static const char *names[] = { "", "pids" };
#define N (sizeof(names) / sizeof(names[0]))

static char mnt[N][PATH_MAX], orig[N][PATH_MAX], rel_a[N][PATH_MAX], a[N][PATH_MAX], rel_b[N][PATH_MAX];
static char b[N][PATH_MAX], back[N][PATH_MAX * 2];
static int made[N];

static int where_ok(pid_t pid, int which, const char *who)
{
	char file[64], now[PATH_MAX];
	unsigned i;

	snprintf(file, sizeof(file), "/proc/%d/cgroup", pid);
	for (i = 0; i < N; i++) {
		const char *want = which == 0 ? rel_a[i] : which == 1 ? rel_b[i] : orig[i];

		if (!made[i])
			continue;
		if (cg_path_of(file, names[i], now, sizeof(now)) || strcmp(now, want)) {
			fail("%s (pid %d): %s is '%s', expected '%s'", who, pid, names[i][0] ? names[i] : "cgroup v2",
			     now, want);
			return -1;
		}
	}
	return 0;
}

static pid_t start_child(int ready)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (write(ready, "r", 1) != 1)
			_exit(1);
		while (1)
			pause();
	}
	return pid;
}

int main(int argc, char **argv)
{
	pid_t kid_b = -1, kid_o = -1;
	int ready[2], ret = 1;
	unsigned i, n = 0;
	char c;

	test_init(argc, argv);

	if (pipe(ready)) {
		pr_perror("pipe");
		return 1;
	}
	for (i = 0; i < N; i++) {
		if (cg_path(names[i], orig[i], sizeof(orig[i])))
			continue;
		if (cg_make(names[i], "cgroup03a", "cgroups.cleanup", mnt[i], rel_a[i], a[i], PATH_MAX))
			continue;
		if (cg_make(names[i], "cgroup03b", "cgroups.cleanup", mnt[i], rel_b[i], b[i], PATH_MAX)) {
			rmdir(a[i]);
			continue;
		}
		made[i] = 1;
		snprintf(back[i], sizeof(back[i]), "%.4000s%.4000s", mnt[i], orig[i]);
		n++;
	}
	if (!n) {
		skip("no cgroup hierarchy to make groups in");
		test_daemon();
		test_waitsig();
		pass();
		return 0;
	}
	kid_b = start_child(ready[1]);
	kid_o = start_child(ready[1]);
	if (kid_b < 0 || kid_o < 0 || read(ready[0], &c, 1) != 1 || read(ready[0], &c, 1) != 1) {
		pr_perror("start the children");
		goto out;
	}
	for (i = 0; i < N; i++) {
		if (!made[i])
			continue;
		/* the test first, so that kid_o really moves back */
		if (cg_move(a[i], getpid()) || cg_move(a[i], kid_o) || cg_move(b[i], kid_b) || cg_move(back[i], kid_o)) {
			pr_perror("move into %s / %s", a[i], b[i]);
			goto out;
		}
	}
	if (where_ok(getpid(), 0, "the test") || where_ok(kid_b, 1, "child B") || where_ok(kid_o, 2, "child O"))
		goto out;

	test_daemon();
	test_waitsig();

	if (where_ok(getpid(), 0, "the test") || where_ok(kid_b, 1, "child B") || where_ok(kid_o, 2, "child O"))
		goto out;
	ret = 0;
out:
	if (kid_b > 0) {
		kill(kid_b, SIGKILL);
		waitpid(kid_b, NULL, 0);
	}
	if (kid_o > 0) {
		kill(kid_o, SIGKILL);
		waitpid(kid_o, NULL, 0);
	}
	for (i = 0; i < N; i++) {
		if (!made[i])
			continue;
		if (cg_move(back[i], getpid()))
			pr_perror("move back to %s", back[i]);
		if (rmdir(b[i]) || rmdir(a[i]))
			pr_perror("rmdir %s, %s", a[i], b[i]);
	}
	if (!ret)
		pass();
	return ret;
}
