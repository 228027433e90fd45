#include <fcntl.h>
#include <sys/eventfd.h>

#include "zdtmtst.h"

const char *test_doc = "A non-blocking eventfd whose counter is 3 below the maximum (0xfffffffffffffffe), "
		       "more than 32 bits: after C/R a write of 3 fits, one more fails with EAGAIN, a read gives "
		       "the maximum";
const char *test_author = "Stasis developers";

#define EFD_MAX 0xfffffffffffffffeULL

int main(int argc, char **argv)
{
	eventfd_t v;
	int fd;

	test_init(argc, argv);

	fd = eventfd(0, EFD_NONBLOCK);
	if (fd < 0)
		return pr_perror("eventfd");
	if (eventfd_write(fd, EFD_MAX - 3))
		return pr_perror("eventfd_write");

	test_daemon();
	test_waitsig();

	if (eventfd_write(fd, 4) != -1 || errno != EAGAIN) {
		fail("a write of 4 after C/R did not fail with EAGAIN: the counter is not max - 3");
		return 1;
	}
	if (eventfd_write(fd, 3)) {
		fail("a write of 3 after C/R failed: the counter is not max - 3");
		return 1;
	}
	if (eventfd_write(fd, 1) != -1 || errno != EAGAIN) {
		fail("a write of 1 to a full eventfd after C/R did not fail with EAGAIN");
		return 1;
	}
	if (eventfd_read(fd, &v) || v != EFD_MAX) {
		fail("read %#llx after C/R, expected %#llx", (unsigned long long)v, EFD_MAX);
		return 1;
	}
	pass();
	return 0;
}
