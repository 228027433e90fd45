#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>

#include "zdtmtst.h"

const char *test_doc = "eventfds with counts: a plain one (its count read back whole), an EFD_SEMAPHORE one "
		       "(read one by one) and a non-blocking empty one: after C/R the counts, the flags and "
		       "EAGAIN on the empty one are as before";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int plain, sem, empty, i;
	struct pollfd pfd;
	uint64_t v;

	test_init(argc, argv);

	plain = eventfd(0, 0);
	sem = eventfd(3, EFD_SEMAPHORE);
	empty = eventfd(0, EFD_NONBLOCK);
	v = 0x123456789aULL;
	if (plain < 0 || sem < 0 || empty < 0 || write(plain, &v, sizeof(v)) != sizeof(v)) {
		pr_perror("eventfd");
		return 1;
	}

	test_daemon();
	test_waitsig();

	pfd.fd = empty;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) != 0) {
		fail("the empty eventfd is readable");
		return 1;
	}
	errno = 0;
	if (read(empty, &v, sizeof(v)) != -1 || errno != EAGAIN || !(fcntl(empty, F_GETFL) & O_NONBLOCK)) {
		fail("the empty eventfd: no EAGAIN or not O_NONBLOCK");
		return 1;
	}
	if (read(plain, &v, sizeof(v)) != sizeof(v) || v != 0x123456789aULL) {
		fail("the plain eventfd's count is %#llx", (unsigned long long)v);
		return 1;
	}
	for (i = 0; i < 3; i++)
		if (read(sem, &v, sizeof(v)) != sizeof(v) || v != 1) {
			fail("semaphore read %d gave %llu", i, (unsigned long long)v);
			return 1;
		}
	pfd.fd = sem;
	if (poll(&pfd, 1, 0) != 0) {
		fail("the semaphore has more than 3");
		return 1;
	}
	pass();
	return 0;
}
