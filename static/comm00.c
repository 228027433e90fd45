#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that the task name set with PR_SET_NAME survives C/R (prctl, comm, stat, status)";
const char *test_author = "Stasis developers";

/* 15 characters, the most the kernel keeps, with a space and a ')' to upset naive parsers */
#define NEW_NAME "stasis) comm00"

static int read_file(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return pr_perror("open(%s)", path);
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return pr_perror("read(%s)", path);
	buf[n] = '\0';
	return 0;
}

/* Compare every place the kernel shows the name */
static int check_name(const char *want)
{
	char name[32], buf[4096], expect[64], *p;

	memset(name, 0, sizeof(name));
	if (prctl(PR_GET_NAME, name, 0, 0, 0)) {
		fail("PR_GET_NAME");
		return 1;
	}
	if (strcmp(name, want)) {
		fail("PR_GET_NAME gives '%s', expected '%s'", name, want);
		return 1;
	}

	if (read_file("/proc/self/comm", buf, sizeof(buf)))
		return 1;
	ssprintf(expect, "%s\n", want);
	if (strcmp(buf, expect)) {
		fail("/proc/self/comm is '%s', expected '%s'", buf, want);
		return 1;
	}

	if (read_file("/proc/self/stat", buf, sizeof(buf)))
		return 1;
	ssprintf(expect, "%d (%s) ", getpid(), want);
	if (strncmp(buf, expect, strlen(expect))) {
		fail("/proc/self/stat starts with '%.40s', expected '%s'", buf, expect);
		return 1;
	}

	if (read_file("/proc/self/status", buf, sizeof(buf)))
		return 1;
	ssprintf(expect, "Name:\t%s\n", want);
	p = strstr(buf, "Name:");
	if (!p || strncmp(p, expect, strlen(expect))) {
		fail("/proc/self/status has no line '%s'", expect);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);

	if (prctl(PR_SET_NAME, NEW_NAME, 0, 0, 0)) {
		pr_perror("PR_SET_NAME");
		return 1;
	}
	if (check_name(NEW_NAME)) {
		pr_err("the name is wrong before C/R already\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (check_name(NEW_NAME))
		return 1;

	pass();
	return 0;
}
