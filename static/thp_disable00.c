#include <stdio.h>
#include <sys/prctl.h>

#include "zdtmtst.h"

const char *test_doc = "Check that PR_SET_THP_DISABLE survives C/R (prctl and the THP_enabled line of /proc/self/status)";
const char *test_author = "Stasis developers";

#ifndef PR_SET_THP_DISABLE
#define PR_SET_THP_DISABLE 41
#define PR_GET_THP_DISABLE 42
#endif

/* "THP_enabled: N" (kernel 5.0+); -1 if the line is missing */
static int status_thp_enabled(void)
{
	char line[256];
	FILE *f;
	int v = -1;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "THP_enabled: %d", &v) == 1)
			break;
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	int v, status_before;

	test_init(argc, argv);

	v = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
	if (v != 0) {
		pr_err("PR_GET_THP_DISABLE is %d before the test sets it; the test would prove nothing\n", v);
		return 1;
	}
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0)) {
		pr_perror("PR_SET_THP_DISABLE");
		return 1;
	}
	if (prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) != 1) {
		pr_err("PR_GET_THP_DISABLE is not 1 right after setting it\n");
		return 1;
	}
	status_before = status_thp_enabled();
	test_msg("THP_enabled in /proc/self/status: %d\n", status_before);

	test_daemon();
	test_waitsig();

	v = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
	if (v != 1) {
		fail("PR_GET_THP_DISABLE is %d, expected 1", v);
		return 1;
	}
	v = status_thp_enabled();
	if (v != status_before) {
		fail("/proc/self/status says THP_enabled: %d, it was %d", v, status_before);
		return 1;
	}

	pass();
	return 0;
}
