#include <fcntl.h>

#include "zdtmtst.h"

const char *test_doc = "Check that /proc/self/coredump_filter (0x7b) survives C/R";
const char *test_author = "Stasis developers";

static int read_filter(char *buf, size_t len)
{
	int fd, n;

	fd = open("/proc/self/coredump_filter", O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return 0;
}

int main(int argc, char **argv)
{
	char before[32], after[32];
	int fd;

	test_init(argc, argv);

	if (read_filter(before, sizeof(before))) {
		pr_perror("read coredump_filter");
		return 1;
	}
	if (!strcmp(before, "0000007b\n")) {
		pr_err("coredump_filter is 0x7b already: the test would prove nothing\n");
		return 1;
	}
	fd = open("/proc/self/coredump_filter", O_WRONLY);
	if (fd < 0 || write(fd, "0x7b", 4) != 4) {
		pr_perror("write coredump_filter");
		return 1;
	}
	close(fd);
	if (read_filter(before, sizeof(before)) || strcmp(before, "0000007b\n")) {
		pr_err("coredump_filter reads '%s' after writing 0x7b\n", before);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (read_filter(after, sizeof(after))) {
		fail("read coredump_filter");
		return 1;
	}
	if (strcmp(after, before)) {
		after[strcspn(after, "\n")] = 0;
		fail("coredump_filter reads '%s', expected 0000007b", after);
		return 1;
	}
	pass();
	return 0;
}
