#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that the audit login uid (/proc/self/loginuid) survives C/R";
const char *test_author = "Stasis developers";

#define TEST_LOGINUID 31337u

static long long read_loginuid(void)
{
	char buf[32];
	int fd;
	ssize_t n;

	fd = open("/proc/self/loginuid", O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

int main(int argc, char **argv)
{
	long long v;
	char buf[32];
	int fd, len;

	test_init(argc, argv);

	v = read_loginuid();
	if (v < 0) {
		skip("no /proc/self/loginuid (kernel without CONFIG_AUDIT)");
		test_daemon();
		test_waitsig();
		pass();
		return 0;
	}
	if (v == TEST_LOGINUID) {
		pr_err("loginuid is already %u; the test would prove nothing\n", TEST_LOGINUID);
		return 1;
	}
	len = snprintf(buf, sizeof(buf), "%u", TEST_LOGINUID);
	fd = open("/proc/self/loginuid", O_WRONLY);
	if (fd < 0 || write(fd, buf, len) != len) {
		pr_perror("setting loginuid to %u (needs CAP_AUDIT_CONTROL)", TEST_LOGINUID);
		return 1;
	}
	close(fd);
	if (read_loginuid() != TEST_LOGINUID) {
		pr_err("loginuid is %lld right after setting it\n", read_loginuid());
		return 1;
	}

	test_daemon();
	test_waitsig();

	v = read_loginuid();
	if (v != TEST_LOGINUID) {
		fail("loginuid is %lld, expected %u", v, TEST_LOGINUID);
		return 1;
	}

	pass();
	return 0;
}
