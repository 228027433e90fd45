#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>

#include "zdtmtst.h"

const char *test_doc = "One eventfd description dup'ed (a, b = dup(a), O_NONBLOCK set through b) and a second "
		       "description with the same counter (c): after C/R a and b are still one description (kcmp, "
		       "shared counter and flags), c is separate with its own counter";
const char *test_author = "Stasis developers";

static int same_desc(int a, int b)
{
	pid_t me = getpid();

	return syscall(SYS_kcmp, me, me, KCMP_FILE, a, b);
}

int main(int argc, char **argv)
{
	int a, b, c, fla, flc;
	eventfd_t v;

	test_init(argc, argv);

	a = eventfd(3, 0);
	c = eventfd(3, 0);
	if (a < 0 || c < 0)
		return pr_perror("eventfd");
	b = dup(a);
	if (b < 0 || fcntl(b, F_SETFL, O_NONBLOCK))
		return pr_perror("dup/F_SETFL");
	fla = fcntl(a, F_GETFL);
	flc = fcntl(c, F_GETFL);
	if (!(fla & O_NONBLOCK) || (flc & O_NONBLOCK) || same_desc(a, b) != 0 || same_desc(a, c) == 0)
		return pr_err("unexpected setup %#x %#x\n", fla, flc);

	test_daemon();
	test_waitsig();

	if (same_desc(a, b) != 0 || same_desc(a, c) <= 0 || same_desc(b, c) <= 0) {
		fail("after C/R kcmp(a, b) = %d (0 expected), kcmp(a, c) = %d (> 0 expected)", same_desc(a, b),
		     same_desc(a, c));
		return 1;
	}
	if (fcntl(a, F_GETFL) != fla || fcntl(b, F_GETFL) != fla || fcntl(c, F_GETFL) != flc) {
		fail("flags after C/R: a %#x b %#x (were %#x), c %#x (was %#x)", fcntl(a, F_GETFL), fcntl(b, F_GETFL),
		     fla, fcntl(c, F_GETFL), flc);
		return 1;
	}
	if (eventfd_write(a, 10) || eventfd_read(b, &v) || v != 13) {
		fail("write 10 through a, read through b after C/R: %llu, expected 13", (unsigned long long)v);
		return 1;
	}
	if (eventfd_read(a, &v) != -1 || errno != EAGAIN) {
		fail("a is still readable after b was read (not one counter)");
		return 1;
	}
	if (eventfd_read(c, &v) || v != 3) {
		fail("c after C/R has counter %llu, expected 3", (unsigned long long)v);
		return 1;
	}
	pass();
	return 0;
}
