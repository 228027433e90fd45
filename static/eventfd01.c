#include <fcntl.h>
#include <sys/eventfd.h>

#include "zdtmtst.h"

const char *test_doc = "A non-blocking eventfd in semaphore mode (EFD_SEMAPHORE) with counter 5: after C/R "
		       "five reads give 1 each, the sixth fails with EAGAIN, and O_NONBLOCK is kept";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	eventfd_t v;
	int fd, fl, i;

	test_init(argc, argv);

	fd = eventfd(5, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0)
		return pr_perror("eventfd");
	fl = fcntl(fd, F_GETFL);
	if (!(fl & O_NONBLOCK))
		return pr_err("EFD_NONBLOCK is not O_NONBLOCK: %#x\n", fl);

	test_daemon();
	test_waitsig();

	if (fcntl(fd, F_GETFL) != fl || fcntl(fd, F_GETFD) != FD_CLOEXEC) {
		fail("F_GETFL %#x (was %#x), F_GETFD %d after C/R", fcntl(fd, F_GETFL), fl, fcntl(fd, F_GETFD));
		return 1;
	}
	for (i = 0; i < 5; i++) {
		v = 0;
		if (eventfd_read(fd, &v) || v != 1) {
			fail("read %d after C/R gives %llu, expected 1 (semaphore mode)", i, (unsigned long long)v);
			return 1;
		}
	}
	if (eventfd_read(fd, &v) != -1 || errno != EAGAIN) {
		fail("a sixth read after C/R did not fail with EAGAIN");
		return 1;
	}
	if (eventfd_write(fd, 2) || eventfd_read(fd, &v) || v != 1 || eventfd_read(fd, &v) || v != 1 ||
	    eventfd_read(fd, &v) != -1 || errno != EAGAIN) {
		fail("write 2 then reads after C/R do not give 1, 1, EAGAIN");
		return 1;
	}
	pass();
	return 0;
}
