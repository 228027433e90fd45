#include "zdtmtst.h"
#include "cgroup_util.h"

const char *test_doc = "The test moves itself into cgroups of its own in cgroup v1 hierarchies (pids, cpu) and in "
		       "cgroup v2, where the host has them: after C/R /proc/self/cgroup shows each of them (then it "
		       "moves back and removes them)";
const char *test_author = "Stasis developers";

static const char *names[] = { "pids", "cpu", "cpu,cpuacct", "" };
#define N (sizeof(names) / sizeof(names[0]))

static char mnt[N][PATH_MAX], rel[N][PATH_MAX], dir[N][PATH_MAX], orig[N][PATH_MAX];
static int made[N];

static void cleanup(void)
{
	char back[PATH_MAX * 2];
	unsigned i;

	for (i = 0; i < N; i++) {
		if (!made[i])
			continue;
		if (snprintf(back, sizeof(back), "%s%s", mnt[i], orig[i]) >= (int)sizeof(back) ||
		    cg_move(back, getpid()))
			pr_perror("move back to %s", back);
		if (rmdir(dir[i]))
			pr_perror("rmdir %s", dir[i]);
	}
}

int main(int argc, char **argv)
{
	char now[PATH_MAX];
	unsigned i, n = 0;
	int ret;

	test_init(argc, argv);

	for (i = 0; i < N; i++) {
		if (cg_path(names[i], orig[i], sizeof(orig[i])))
			continue;
		ret = cg_make(names[i], "cgroup02", "cgroups.cleanup", mnt[i], rel[i], dir[i], PATH_MAX);
		if (ret > 0)
			continue;
		if (ret < 0) {
			cleanup();
			return 1;
		}
		made[i] = 1;
		if (cg_move(dir[i], getpid()) || cg_path(names[i], now, sizeof(now)) || strcmp(now, rel[i])) {
			pr_perror("moving into %s ('%s' now)", dir[i], now);
			cleanup();
			return 1;
		}
		test_msg("%s: %s -> %s\n", names[i][0] ? names[i] : "v2", orig[i], rel[i]);
		n++;
	}
	if (!n) {
		skip("no cgroup hierarchy to move into");
		test_daemon();
		test_waitsig();
		pass();
		return 0;
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < N; i++) {
		if (!made[i])
			continue;
		if (cg_path(names[i], now, sizeof(now)) || strcmp(now, rel[i])) {
			fail("%s: in '%s', expected '%s'", names[i][0] ? names[i] : "cgroup v2", now, rel[i]);
			cleanup();
			return 1;
		}
	}
	cleanup();
	pass();
	return 0;
}
