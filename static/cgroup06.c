#include "zdtmtst.h"
#include "cgroup_util.h"

const char *test_doc = "Cgroups of the test's own with properties (v1 pids.max and cpu.shares, v2 "
		       "cgroup.max.descendants) that the harness changes between dump and restore: with "
		       "--manage-cgroups=props the groups must exist at restore and get the dumped values back";
const char *test_author = "Stasis developers";

struct cg {
	const char *name, *prop, *value, *other;
	char mnt[PATH_MAX], rel[PATH_MAX], dir[PATH_MAX], orig[PATH_MAX];
	int made;
};

static struct cg cgs[] = {
	{ "pids", "pids.max", "37", "max" },
	{ "cpu", "cpu.shares", "613", "1024" },
	{ "cpu,cpuacct", "cpu.shares", "613", "1024" },
	{ "", "cgroup.max.descendants", "5", "max" },
};
#define N (sizeof(cgs) / sizeof(cgs[0]))

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
		if (rmdir(cgs[i].dir))
			pr_perror("rmdir %s", cgs[i].dir);
	}
}

int main(int argc, char **argv)
{
	char now[PATH_MAX];
	unsigned i, n = 0;
	FILE *set;
	int ret;

	test_init(argc, argv);

	set = fopen("cgroups.set", "w");
	if (!set) {
		pr_perror("open cgroups.set");
		return 1;
	}
	for (i = 0; i < N; i++) {
		struct cg *c = &cgs[i];

		if (cg_path(c->name, c->orig, sizeof(c->orig)))
			continue;
		ret = cg_make(c->name, "cgroup06", "cgroups.cleanup", c->mnt, c->rel, c->dir, PATH_MAX);
		if (ret > 0)
			continue;
		if (ret < 0)
			goto err;
		c->made = 1;
		if (cg_write(c->dir, c->prop, c->value) || cg_move(c->dir, getpid())) {
			pr_perror("set up %s", c->dir);
			goto err;
		}
		/* what the harness writes after each dump */
		fprintf(set, "%s/%s %s\n", c->dir, c->prop, c->other);
		test_msg("%s: %s, %s = %s\n", c->name[0] ? c->name : "v2", c->rel, c->prop, c->value);
		n++;
	}
	fclose(set);
	set = NULL;
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
		if (cg_read(c->dir, c->prop, now, sizeof(now)) || strcmp(now, c->value)) {
			fail("%s/%s is '%s', expected '%s'", c->dir, c->prop, now, c->value);
			goto err;
		}
	}
	cleanup();
	pass();
	return 0;
err:
	if (set)
		fclose(set);
	cleanup();
	return 1;
}
