#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>

#include "zdtmtst.h"

const char *test_doc = "A blocking eventfd with counter 42: after C/R its flags, the counter (one read gives 42 "
		       "and empties it) and further writes and reads behave as before";
const char *test_author = "Stasis developers";

static int readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

int main(int argc, char **argv)
{
	eventfd_t v;
	int fd, fl;

	test_init(argc, argv);

	fd = eventfd(42, 0);
	if (fd < 0)
		return pr_perror("eventfd");
	fl = fcntl(fd, F_GETFL);

	test_daemon();
	test_waitsig();

	if (fcntl(fd, F_GETFL) != fl) {
		fail("F_GETFL %#x after C/R, was %#x", fcntl(fd, F_GETFL), fl);
		return 1;
	}
	if (fcntl(fd, F_GETFD) != 0) {
		fail("FD_CLOEXEC appeared after C/R");
		return 1;
	}
	if (!readable(fd) || eventfd_read(fd, &v) || v != 42) {
		fail("the counter after C/R is %llu, expected 42", (unsigned long long)v);
		return 1;
	}
	if (readable(fd)) {
		fail("the eventfd is still readable after its counter was read");
		return 1;
	}
	if (eventfd_write(fd, 7) || eventfd_write(fd, 8) || eventfd_read(fd, &v) || v != 15) {
		fail("write 7, write 8, read gives %llu after C/R, expected 15", (unsigned long long)v);
		return 1;
	}
	pass();
	return 0;
}
