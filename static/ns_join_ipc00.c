#include <stdio.h>

#include "zdtmtst.h"
#include "ns_join.h"

const char *test_doc = "Restored with --join-ns ipc:FILE into an IPC namespace the harness made with "
		       "kernel.msgmax 4321 (an IPC sysctl: it shows the reader's IPC namespace): after C/R the test "
		       "is in that namespace and reads its value, not the one it had (in flavor ns the images' "
		       "IPC sysctls are not written into the joined namespace)";
const char *test_author = "Stasis developers";

#define MSGMAX 4321

static int msgmax(void)
{
	FILE *f = fopen("/proc/sys/kernel/msgmax", "r");
	int v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	int where, before, now;
	ino_t ino;

	test_init(argc, argv);

	if (ns_ino("ipc", &ino))
		return 1;
	before = msgmax();
	if (before < 0 || before == MSGMAX) {
		pr_err("kernel.msgmax is %d before C/R\n", before);
		return 1;
	}

	test_daemon();
	test_waitsig();

	where = where_now("ipc", ino);
	if (where < 0)
		return 1;
	now = msgmax();
	if (now != (where ? MSGMAX : before)) {
		errno = 0;
		fail("kernel.msgmax is %d, expected %d (%s)", now, where ? MSGMAX : before,
		     where ? "the joined IPC namespace's" : "its own");
		return 1;
	}
	pass();
	return 0;
}
