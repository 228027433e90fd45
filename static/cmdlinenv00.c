#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that /proc/self/cmdline and /proc/self/environ are byte-identical after C/R";
const char *test_author = "Stasis developers";

static char *arg1, *arg2, *arg3;
TEST_OPTION(arg1, string, "first argument", 1);
TEST_OPTION(arg2, string, "second argument", 1);
TEST_OPTION(arg3, string, "third argument", 1);

#define BUF_SIZE (256 * 1024)

static ssize_t read_proc(const char *path, char *buf, size_t size)
{
	ssize_t n, total = 0;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		pr_perror("open(%s)", path);
		return -1;
	}
	while ((n = read(fd, buf + total, size - total)) > 0) {
		total += n;
		if ((size_t)total == size) {
			pr_err("%s is too big\n", path);
			close(fd);
			return -1;
		}
	}
	close(fd);
	if (n < 0) {
		pr_perror("read(%s)", path);
		return -1;
	}
	return total;
}

/* Does the NUL-separated list contain the string "--<name>=<value>"? */
static int has_arg(const char *buf, ssize_t len, const char *name, const char *value)
{
	char want[4096];
	ssize_t off;

	ssprintf(want, "--%s=%s", name, value);
	for (off = 0; off < len; off += strlen(buf + off) + 1)
		if (!strcmp(buf + off, want))
			return 1;
	return 0;
}

static int compare(const char *what, const char *old, ssize_t old_len, const char *new, ssize_t new_len)
{
	ssize_t i;

	if (old_len != new_len) {
		fail("%s: %zd bytes before, %zd bytes after", what, old_len, new_len);
		return 1;
	}
	for (i = 0; i < old_len; i++) {
		if (old[i] != new[i]) {
			fail("%s differs at byte %zd: 0x%02x before, 0x%02x after", what, i,
			     (unsigned char)old[i], (unsigned char)new[i]);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	char *cmd_before, *cmd_after, *env_before, *env_after;
	ssize_t cmd_blen, cmd_alen, env_blen, env_alen;

	test_init(argc, argv);

	cmd_before = malloc(BUF_SIZE);
	cmd_after = malloc(BUF_SIZE);
	env_before = malloc(BUF_SIZE);
	env_after = malloc(BUF_SIZE);
	if (!cmd_before || !cmd_after || !env_before || !env_after) {
		pr_perror("malloc");
		return 1;
	}

	cmd_blen = read_proc("/proc/self/cmdline", cmd_before, BUF_SIZE);
	env_blen = read_proc("/proc/self/environ", env_before, BUF_SIZE);
	if (cmd_blen < 0 || env_blen < 0)
		return 1;
	if (!has_arg(cmd_before, cmd_blen, "arg1", arg1) || !has_arg(cmd_before, cmd_blen, "arg2", arg2) ||
	    !has_arg(cmd_before, cmd_blen, "arg3", arg3)) {
		pr_err("the options are not in /proc/self/cmdline before the dump\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	cmd_alen = read_proc("/proc/self/cmdline", cmd_after, BUF_SIZE);
	env_alen = read_proc("/proc/self/environ", env_after, BUF_SIZE);
	if (cmd_alen < 0 || env_alen < 0) {
		fail("cannot read /proc/self/cmdline or /proc/self/environ after C/R");
		return 1;
	}

	if (compare("/proc/self/cmdline", cmd_before, cmd_blen, cmd_after, cmd_alen))
		return 1;
	if (compare("/proc/self/environ", env_before, env_blen, env_after, env_alen))
		return 1;
	if (!has_arg(cmd_after, cmd_alen, "arg1", arg1) || !has_arg(cmd_after, cmd_alen, "arg2", arg2) ||
	    !has_arg(cmd_after, cmd_alen, "arg3", arg3)) {
		fail("the option strings are missing from /proc/self/cmdline");
		return 1;
	}

	pass();
	return 0;
}
