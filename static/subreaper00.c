#include <stdio.h>
#include <sys/prctl.h>

#include "zdtmtst.h"

const char *test_doc = "Check that PR_SET_CHILD_SUBREAPER survives C/R";
const char *test_author = "Stasis developers";

#ifndef PR_GET_CHILD_SUBREAPER
#define PR_GET_CHILD_SUBREAPER 37
#endif

static int get_subreaper(void)
{
	int v = -1;

	if (prctl(PR_GET_CHILD_SUBREAPER, (unsigned long)&v, 0, 0, 0))
		return -1;
	return v;
}

int main(int argc, char **argv)
{
	int v;

	test_init(argc, argv);

	v = get_subreaper();
	if (v != 0) {
		pr_err("the child subreaper attribute is %d before the test sets it; the test would prove nothing\n", v);
		return 1;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) {
		pr_perror("PR_SET_CHILD_SUBREAPER");
		return 1;
	}
	if (get_subreaper() != 1) {
		pr_err("PR_GET_CHILD_SUBREAPER is not 1 right after setting it\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	v = get_subreaper();
	if (v != 1) {
		fail("PR_GET_CHILD_SUBREAPER is %d, expected 1", v);
		return 1;
	}

	pass();
	return 0;
}
