#include <sched.h>
#include <sys/stat.h>

#include "zdtmtst.h"
#include "cgroup_util.h"

const char *test_doc = "A cgroup namespace of the test's own, made (unshare CLONE_NEWCGROUP) after moving into a new "
		       "cgroup v2 group, so that group is its root: after C/R /proc/self/cgroup reads as before "
		       "(\"0::/\"), the test is in a cgroup namespace other than its parent's and still alone in that "
		       "group (the harness removes the group: from inside, the test cannot leave it)";
const char *test_author = "Stasis developers";

static ino_t ns_ino(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return 0;
	return st.st_ino;
}

static int read_all(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return pr_perror("open %s", path);
	n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	char mnt[PATH_MAX], rel[PATH_MAX], dir[PATH_MAX], cg[PATH_MAX], before[8192], after[8192];
	char procs[256], me[32];
	struct stat st_grp, st;
	ino_t outer, mine;

	test_init(argc, argv);

	switch (cg_make("", "ns_cgroup00", "cgroups.cleanup", mnt, rel, dir, PATH_MAX)) {
	case 0:
		break;
	case 1:
		pr_err("no cgroup2 mount\n");
		return 1;
	default:
		return 1;
	}
	outer = ns_ino("/proc/self/ns/cgroup");
	if (stat(dir, &st_grp) || cg_move(dir, getpid())) {
		pr_perror("move into %s", dir);
		return 1;
	}
	if (unshare(CLONE_NEWCGROUP)) {
		pr_perror("unshare(CLONE_NEWCGROUP)");
		return 1;
	}
	mine = ns_ino("/proc/self/ns/cgroup");
	if (cg_path("", cg, sizeof(cg)) || strcmp(cg, "/") || !mine || mine == outer ||
	    ns_ino("/proc/1/ns/cgroup") != outer) {
		pr_err("after unshare(CLONE_NEWCGROUP): ns %lu (was %lu), cgroup \"%s\"\n", (unsigned long)mine,
		       (unsigned long)outer, cg);
		return 1;
	}
	if (read_all("/proc/self/cgroup", before, sizeof(before)))
		return 1;
	test_msg("in %s, its own cgroup namespace\n", rel);

	test_daemon();
	test_waitsig();

	if (read_all("/proc/self/cgroup", after, sizeof(after)))
		return 1;
	if (strcmp(before, after)) {
		fail("/proc/self/cgroup changed:\n%s---- now:\n%s", before, after);
		return 1;
	}
	/* the parent of a restored tree (pid 1 here) is still in the outer namespace: compare with it */
	if (ns_ino("/proc/self/ns/cgroup") == ns_ino("/proc/1/ns/cgroup")) {
		fail("the test is in its parent's cgroup namespace after C/R");
		return 1;
	}
	snprintf(me, sizeof(me), "%d", getpid());
	if (stat(dir, &st) || st.st_ino != st_grp.st_ino || cg_read(dir, "cgroup.procs", procs, sizeof(procs)) ||
	    strcmp(procs, me)) {
		fail("the test is not (alone) in %s after C/R", dir);
		return 1;
	}
	pass();
	return 0;
}
