#include <sched.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "A cgroup namespace of the test's own, made (unshare CLONE_NEWCGROUP) in the cgroups it "
		       "starts in: after C/R every line of /proc/self/cgroup still reads \"/\" and the namespace is "
		       "still not the one the test was started in (its ns id is that of pid 1 in h, its parent's)";
const char *test_author = "Stasis developers";

static int all_root(char *bad, size_t len)
{
	char line[4096], *p;
	FILE *f = fopen("/proc/self/cgroup", "r");
	int n = 0;

	if (!f)
		return pr_perror("open /proc/self/cgroup");
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		p = strchr(line, ':');
		p = p ? strchr(p + 1, ':') : NULL;
		if (!p || strcmp(p + 1, "/")) {
			snprintf(bad, len, "%s", line);
			fclose(f);
			return -1;
		}
		n++;
	}
	fclose(f);
	if (!n) {
		snprintf(bad, len, "(empty)");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct stat outer, mine, now;
	char bad[4096];

	test_init(argc, argv);

	if (stat("/proc/self/ns/cgroup", &outer)) {
		pr_perror("stat /proc/self/ns/cgroup");
		return 1;
	}
	if (unshare(CLONE_NEWCGROUP)) {
		pr_perror("unshare(CLONE_NEWCGROUP)");
		return 1;
	}
	if (stat("/proc/self/ns/cgroup", &mine) || mine.st_ino == outer.st_ino) {
		pr_err("unshare(CLONE_NEWCGROUP) made no namespace\n");
		return 1;
	}
	if (all_root(bad, sizeof(bad))) {
		pr_err("after unshare: %s\n", bad);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (all_root(bad, sizeof(bad))) {
		fail("/proc/self/cgroup after C/R: %s", bad);
		return 1;
	}
	if (stat("/proc/self/ns/cgroup", &now)) {
		pr_perror("stat /proc/self/ns/cgroup");
		return 1;
	}
	/* restored, it is a new namespace: it must still not be the outer one, which pid 1 (h) or the
	 * test's parent outside its pid namespace (ns, uns) is in; getppid() is 0 for an ns init */
	if (getppid() > 0) {
		char path[64];
		struct stat parent;

		snprintf(path, sizeof(path), "/proc/%d/ns/cgroup", getppid());
		if (!stat(path, &parent) && parent.st_ino == now.st_ino) {
			fail("the test is in its parent's cgroup namespace after C/R");
			return 1;
		}
	}
	pass();
	return 0;
}
