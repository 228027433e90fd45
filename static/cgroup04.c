#include "zdtmtst.h"
#include "cgroup_util.h"

const char *test_doc = "Cgroups of the test's own with properties (v1 pids.max and cpu.shares, v2 "
		       "cgroup.max.descendants), one with an empty child group that has its own pids.max: the harness "
		       "removes them all between dump and restore, and with --manage-cgroups=soft the restore must make "
		       "them again with their properties and put the test back in them";
const char *test_author = "Stasis developers";

struct cg {
	const char *name, *prop, *value;
	char mnt[PATH_MAX], rel[PATH_MAX], dir[PATH_MAX], orig[PATH_MAX];
	int made;
};

static struct cg cgs[] = {
	{ "pids", "pids.max", "37" },
	{ "cpu", "cpu.shares", "613" },
	{ "cpu,cpuacct", "cpu.shares", "613" },
	{ "", "cgroup.max.descendants", "5" },
};
#define N (sizeof(cgs) / sizeof(cgs[0]))

static char sub[PATH_MAX * 2];	/* the empty child of the pids group */

static void cleanup(void)
{
	char back[PATH_MAX * 2];
	unsigned i;

	for (i = 0; i < N; i++) {
		if (!cgs[i].made)
			continue;
		if (snprintf(back, sizeof(back), "%s%s", cgs[i].mnt, cgs[i].orig) >= (int)sizeof(back) ||
		    cg_move(back, getpid()))
			pr_perror("move back to %s", back);
	}
	if (sub[0] && rmdir(sub))
		pr_perror("rmdir %s", sub);
	for (i = 0; i < N; i++)
		if (cgs[i].made && rmdir(cgs[i].dir))
			pr_perror("rmdir %s", cgs[i].dir);
}

static int check_value(const char *dir, const char *prop, const char *want)
{
	char now[256];

	if (cg_read(dir, prop, now, sizeof(now))) {
		fail("cannot read %s/%s", dir, prop);
		return -1;
	}
	if (strcmp(now, want)) {
		fail("%s/%s is '%s', expected '%s'", dir, prop, now, want);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char now[PATH_MAX];
	unsigned i, n = 0;
	int ret;

	test_init(argc, argv);

	for (i = 0; i < N; i++) {
		struct cg *c = &cgs[i];

		if (cg_path(c->name, c->orig, sizeof(c->orig)))
			continue;
		ret = cg_make(c->name, "cgroup04", "cgroups.between", c->mnt, c->rel, c->dir, PATH_MAX);
		if (ret > 0)
			continue;
		if (ret < 0)
			goto err;
		c->made = 1;
		if (cg_write(c->dir, c->prop, c->value)) {
			pr_perror("write %s to %s/%s", c->value, c->dir, c->prop);
			goto err;
		}
		if (!strcmp(c->name, "pids")) {
			snprintf(sub, sizeof(sub), "%s/empty", c->dir);
			if (mkdir(sub, 0700) || cg_list("cgroups.between", sub) || cg_write(sub, "pids.max", "11")) {
				pr_perror("make %s", sub);
				goto err;
			}
		}
		if (cg_move(c->dir, getpid()) || cg_path(c->name, now, sizeof(now)) || strcmp(now, c->rel)) {
			pr_perror("move into %s", c->dir);
			goto err;
		}
		test_msg("%s: %s, %s = %s\n", c->name[0] ? c->name : "v2", c->rel, c->prop, c->value);
		n++;
	}
	if (!n) {
		skip("no cgroup hierarchy to make groups in");
		test_daemon();
		test_waitsig();
		pass();
		return 0;
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < N; i++) {
		struct cg *c = &cgs[i];

		if (!c->made)
			continue;
		if (cg_path(c->name, now, sizeof(now)) || strcmp(now, c->rel)) {
			fail("%s: in '%s', expected '%s'", c->name[0] ? c->name : "cgroup v2", now, c->rel);
			goto err;
		}
		if (check_value(c->dir, c->prop, c->value))
			goto err;
	}
	if (sub[0] && check_value(sub, "pids.max", "11"))
		goto err;
	cleanup();
	pass();
	return 0;
err:
	cleanup();
	return 1;
}
