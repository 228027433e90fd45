#include <fcntl.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that the timer slack (PR_SET_TIMERSLACK) survives C/R";
const char *test_author = "Stasis developers";

#define SLACK_NS 123457UL

/* The kernel's view: /proc/self/timerslack_ns */
static int proc_slack(unsigned long *val)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = open("/proc/self/timerslack_ns", O_RDONLY);
	if (fd < 0)
		return pr_perror("open(/proc/self/timerslack_ns)");
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return pr_perror("read(/proc/self/timerslack_ns)");
	buf[n] = '\0';
	*val = strtoul(buf, NULL, 10);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long v;
	long got;

	test_init(argc, argv);

	if (prctl(PR_SET_TIMERSLACK, SLACK_NS, 0, 0, 0)) {
		pr_perror("PR_SET_TIMERSLACK");
		return 1;
	}
	if (prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) != (long)SLACK_NS || proc_slack(&v) || v != SLACK_NS) {
		pr_err("timer slack does not read back as %lu\n", SLACK_NS);
		return 1;
	}

	test_daemon();
	test_waitsig();

	got = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (got != (long)SLACK_NS) {
		fail("PR_GET_TIMERSLACK is %ld, expected %lu", got, SLACK_NS);
		return 1;
	}
	if (proc_slack(&v)) {
		fail("cannot read /proc/self/timerslack_ns");
		return 1;
	}
	if (v != SLACK_NS) {
		fail("/proc/self/timerslack_ns is %lu, expected %lu", v, SLACK_NS);
		return 1;
	}

	pass();
	return 0;
}
