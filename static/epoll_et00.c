#include "epoll_common.h"

const char *test_doc = "EPOLLET on a pipe's read end whose edge was consumed before the dump: after C/R the "
		       "registration is as before, it reports at most once for the data already queued (the kernel "
		       "keeps no record of a consumed edge: a restored edge-triggered item starts ready, as after "
		       "EPOLL_CTL_ADD), never again without new data, and once for each new write";
const char *test_author = "Stasis developers";

#define COOKIE 0x00e7e7e7e7e7e700ULL

int main(int argc, char **argv)
{
	char before[TFD_TEXT], buf[16];
	struct epoll_event ev;
	int p[2], ep, n;

	test_init(argc, argv);

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || pipe(p)) {
		pr_perror("epoll_create1/pipe");
		return 1;
	}
	if (ep_add(ep, p[0], EPOLLIN | EPOLLET, COOKIE))
		return 1;
	if (write(p[1], "ab", 2) != 2) {
		pr_perror("write");
		return 1;
	}
	if (expect_wait(ep, 1, EPOLLIN, COOKIE, "first edge") || expect_wait(ep, 0, 0, 0, "edge consumed") ||
	    epoll_tfds(ep, before, sizeof(before)))
		return 1;

	test_daemon();
	test_waitsig();

	if (same_tfds(ep, before, "after C/R"))
		return 1;
	n = epoll_wait(ep, &ev, 1, 0);
	if (n < 0 || (n == 1 && (ev.events != EPOLLIN || ev.data.u64 != COOKIE))) {
		fail("after C/R: epoll_wait gave %d (events %#x data %#llx)", n, n == 1 ? ev.events : 0,
		     n == 1 ? (unsigned long long)ev.data.u64 : 0ULL);
		return 1;
	}
	if (expect_wait(ep, 0, 0, 0, "edge-triggered: no new data, no second report") ||
	    expect_wait(ep, 0, 0, 0, "still none"))
		return 1;
	if (write(p[1], "c", 1) != 1 || expect_wait(ep, 1, EPOLLIN, COOKIE, "new write after C/R") ||
	    expect_wait(ep, 0, 0, 0, "the new edge consumed"))
		return 1;
	if (write(p[1], "d", 1) != 1 || expect_wait(ep, 1, EPOLLIN, COOKIE, "another write"))
		return 1;
	if (read(p[0], buf, sizeof(buf)) != 4 || memcmp(buf, "abcd", 4)) {
		fail("the pipe does not hold \"abcd\" after C/R");
		return 1;
	}
	if (fcntl(ep, F_GETFD) != FD_CLOEXEC) {
		fail("EPOLL_CLOEXEC lost: F_GETFD %d", fcntl(ep, F_GETFD));
		return 1;
	}
	pass();
	return 0;
}
