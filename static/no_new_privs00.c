#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "zdtmtst.h"

const char *test_doc = "Check that PR_SET_NO_NEW_PRIVS survives C/R";
const char *test_author = "Stasis developers";

/* The kernel's view: the "NoNewPrivs:" line of /proc/self/status */
static int status_nnp(void)
{
	char line[256];
	FILE *f;
	int v = -1;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "NoNewPrivs: %d", &v) == 1)
			break;
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	int v;

	test_init(argc, argv);

	v = status_nnp();
	if (v != 0) {
		pr_err("NoNewPrivs is %d before the test sets it; the test would prove nothing\n", v);
		return 1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		pr_perror("PR_SET_NO_NEW_PRIVS");
		return 1;
	}
	if (status_nnp() != 1) {
		pr_err("NoNewPrivs is not 1 in /proc/self/status after setting it\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	v = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	if (v != 1) {
		fail("PR_GET_NO_NEW_PRIVS is %d, expected 1", v);
		return 1;
	}
	v = status_nnp();
	if (v != 1) {
		fail("/proc/self/status says NoNewPrivs: %d, expected 1", v);
		return 1;
	}

	pass();
	return 0;
}
