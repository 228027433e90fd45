#include <sched.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "Check that SCHED_RESET_ON_FORK survives C/R: sched_getscheduler returns SCHED_BATCH with the "
		       "flag, and a forked child gets SCHED_BATCH without it (the kernel clears it in children)";
const char *test_author = "Stasis developers";

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

/* The policy a forked child starts with (flag included), or -1 */
static int child_policy(void)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int p = sched_getscheduler(0);

		_exit(p < 0 ? 255 : (p & 0xff) | (p & SCHED_RESET_ON_FORK ? 0x80 : 0));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	if (WEXITSTATUS(status) == 255)
		return -1;
	return (WEXITSTATUS(status) & 0x7f) | (WEXITSTATUS(status) & 0x80 ? SCHED_RESET_ON_FORK : 0);
}

int main(int argc, char **argv)
{
	struct sched_param sp = { .sched_priority = 0 };
	int before, after, child;

	test_init(argc, argv);

	if (sched_setscheduler(0, SCHED_BATCH | SCHED_RESET_ON_FORK, &sp)) {
		pr_perror("sched_setscheduler(SCHED_BATCH|SCHED_RESET_ON_FORK)");
		return 1;
	}
	before = sched_getscheduler(0);
	if (before != (SCHED_BATCH | SCHED_RESET_ON_FORK)) {
		pr_err("sched_getscheduler gives %#x right after setting\n", before);
		return 1;
	}
	child = child_policy();
	if (child != SCHED_BATCH) {
		pr_err("a child starts with policy %#x, expected SCHED_BATCH without the flag\n", child);
		return 1;
	}

	test_daemon();
	test_waitsig();

	after = sched_getscheduler(0);
	if (after != before) {
		fail("sched_getscheduler gives %#x, expected %#x (SCHED_BATCH|SCHED_RESET_ON_FORK)", after, before);
		return 1;
	}
	child = child_policy();
	if (child != SCHED_BATCH) {
		fail("a child forked after C/R starts with policy %#x, expected SCHED_BATCH without the flag", child);
		return 1;
	}
	pass();
	return 0;
}
