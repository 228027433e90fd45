#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that personality flags (ADDR_NO_RANDOMIZE, ADDR_COMPAT_LAYOUT, UNAME26) survive C/R";
const char *test_author = "Stasis developers";

#define EXTRA_FLAGS (ADDR_NO_RANDOMIZE | ADDR_COMPAT_LAYOUT | UNAME26)

/* The kernel's view: /proc/self/personality, in hex */
static int proc_personality(unsigned long *val)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = open("/proc/self/personality", O_RDONLY);
	if (fd < 0)
		return pr_perror("open(/proc/self/personality)");
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return pr_perror("read(/proc/self/personality)");
	buf[n] = '\0';
	*val = strtoul(buf, NULL, 16);
	return 0;
}

/* UNAME26 makes uname() report a 2.6.x release */
static int uname_is_26(void)
{
	struct utsname u;

	if (uname(&u))
		return -1;
	return !strncmp(u.release, "2.6.", 4);
}

int main(int argc, char **argv)
{
	int old, want, got;
	unsigned long proc_val;

	test_init(argc, argv);

	old = personality(0xffffffff);
	if (old < 0) {
		pr_perror("personality(query)");
		return 1;
	}
	want = old | EXTRA_FLAGS;
	if (personality(want) < 0) {
		pr_perror("personality(%#x)", want);
		return 1;
	}
	got = personality(0xffffffff);
	if (got != want || proc_personality(&proc_val) || proc_val != (unsigned long)want) {
		pr_err("personality does not read back as %#x\n", want);
		return 1;
	}
	if (uname_is_26() != 1) {
		pr_err("uname() does not report 2.6.x with UNAME26\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	got = personality(0xffffffff);
	if (got != want) {
		fail("personality is %#x, expected %#x", got, want);
		return 1;
	}
	if (proc_personality(&proc_val)) {
		fail("cannot read /proc/self/personality");
		return 1;
	}
	if (proc_val != (unsigned long)want) {
		fail("/proc/self/personality is %#lx, expected %#x", proc_val, want);
		return 1;
	}
	if (uname_is_26() != 1) {
		fail("uname() does not report 2.6.x any more");
		return 1;
	}

	pass();
	return 0;
}
