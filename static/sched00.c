#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "zdtmtst.h"

const char *test_doc = "Check that the nice value and a non-default scheduling policy (SCHED_BATCH) survive C/R";
const char *test_author = "Stasis developers";

#define TEST_NICE 5

/* Fields 19 (nice) and 41 (policy) of /proc/self/stat */
static int stat_sched(int *nice, int *policy)
{
	char buf[1024], *p;
	FILE *f;
	int field;
	size_t n;

	f = fopen("/proc/self/stat", "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* comm may hold spaces */
	if (!p)
		return -1;
	for (field = 2; p && field < 41; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -1;
		if (field + 1 == 19)
			*nice = atoi(p + 1);
		if (field + 1 == 41)
			*policy = atoi(p + 1);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sched_param sp = { .sched_priority = 0 };
	int prio, policy, s_nice = -100, s_policy = -1;

	test_init(argc, argv);

	if (sched_getscheduler(0) != SCHED_OTHER || getpriority(PRIO_PROCESS, 0) == TEST_NICE) {
		pr_err("the test starts with policy %d nice %d; it would prove nothing\n", sched_getscheduler(0),
		       getpriority(PRIO_PROCESS, 0));
		return 1;
	}
	if (setpriority(PRIO_PROCESS, 0, TEST_NICE)) {
		pr_perror("setpriority(%d)", TEST_NICE);
		return 1;
	}
	if (sched_setscheduler(0, SCHED_BATCH, &sp)) {
		pr_perror("sched_setscheduler(SCHED_BATCH)");
		return 1;
	}
	if (stat_sched(&s_nice, &s_policy) || s_nice != TEST_NICE || s_policy != SCHED_BATCH) {
		pr_err("/proc/self/stat shows nice %d policy %d right after setting them\n", s_nice, s_policy);
		return 1;
	}

	test_daemon();
	test_waitsig();

	/* Collect everything first, so that one report shows all that differs */
	policy = sched_getscheduler(0);
	errno = 0;
	prio = getpriority(PRIO_PROCESS, 0);
	if (errno)
		prio = -100;
	if (sched_getparam(0, &sp))
		sp.sched_priority = -1;
	if (stat_sched(&s_nice, &s_policy))
		s_nice = s_policy = -100;
	if (policy != SCHED_BATCH || prio != TEST_NICE || sp.sched_priority != 0 || s_nice != TEST_NICE ||
	    s_policy != SCHED_BATCH) {
		fail("sched_getscheduler %d getpriority %d sched_priority %d, /proc/self/stat nice %d policy %d; "
		     "expected policy SCHED_BATCH (%d), nice %d, priority 0",
		     policy, prio, sp.sched_priority, s_nice, s_policy, SCHED_BATCH, TEST_NICE);
		return 1;
	}

	pass();
	return 0;
}
