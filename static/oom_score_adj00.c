#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that a raised /proc/self/oom_score_adj survives C/R";
const char *test_author = "Stasis developers";

#define ADJ_PATH "/proc/self/oom_score_adj"

static int read_adj(int *val)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = open(ADJ_PATH, O_RDONLY);
	if (fd < 0)
		return pr_perror("open(%s)", ADJ_PATH);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return pr_perror("read(%s)", ADJ_PATH);
	buf[n] = '\0';
	*val = atoi(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int old, want, got;
	char buf[32];
	int fd, len;

	test_init(argc, argv);

	if (read_adj(&old))
		return 1;
	/* Raising needs no privilege; pick a value different from any default */
	want = old + 345;
	if (want > 1000)
		want = 1000;
	if (want == old) {
		pr_err("oom_score_adj is already %d, cannot raise it\n", old);
		return 1;
	}

	len = snprintf(buf, sizeof(buf), "%d", want);
	fd = open(ADJ_PATH, O_WRONLY);
	if (fd < 0 || write(fd, buf, len) != len) {
		pr_perror("write %d to %s", want, ADJ_PATH);
		return 1;
	}
	close(fd);
	if (read_adj(&got) || got != want) {
		pr_err("oom_score_adj reads back %d, not %d\n", got, want);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (read_adj(&got)) {
		fail("cannot read %s", ADJ_PATH);
		return 1;
	}
	if (got != want) {
		fail("oom_score_adj is %d, expected %d", got, want);
		return 1;
	}

	pass();
	return 0;
}
