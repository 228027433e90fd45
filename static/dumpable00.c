#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that a non-dumpable process (PR_SET_DUMPABLE 0) stays non-dumpable after C/R";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	struct stat st_before, st_after;
	int d;

	test_init(argc, argv);

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) {
		pr_perror("PR_SET_DUMPABLE 0");
		return 1;
	}
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) {
		pr_err("PR_GET_DUMPABLE is not 0 right after setting it\n");
		return 1;
	}
	/* The kernel's view: /proc/<pid> files of a non-dumpable task belong to root, not to us */
	if (stat("/proc/self/status", &st_before)) {
		pr_perror("stat(/proc/self/status)");
		return 1;
	}
	test_msg("euid %d, /proc/self/status owner %d\n", (int)geteuid(), (int)st_before.st_uid);

	test_daemon();
	test_waitsig();

	d = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	if (d != 0) {
		fail("PR_GET_DUMPABLE is %d, expected 0", d);
		return 1;
	}
	if (stat("/proc/self/status", &st_after)) {
		fail("stat(/proc/self/status)");
		return 1;
	}
	if (st_after.st_uid != st_before.st_uid) {
		fail("/proc/self/status owner was %d, now %d", (int)st_before.st_uid, (int)st_after.st_uid);
		return 1;
	}

	pass();
	return 0;
}
