#include "epoll_common.h"

const char *test_doc = "One pipe's read end registered with EPOLLEXCLUSIVE in two epoll instances: after C/R "
		       "both registrations keep EPOLLEXCLUSIVE (fdinfo, and EPOLL_CTL_MOD refuses them with EINVAL "
		       "as the kernel does for exclusive items), and data wakes them with their cookies";
const char *test_author = "Stasis developers";

#define C1 0x1111111111111111ULL
#define C2 0x2222222222222222ULL

int main(int argc, char **argv)
{
	char before1[TFD_TEXT], before2[TFD_TEXT];
	struct epoll_event ev;
	int p[2], e1, e2, n;

	test_init(argc, argv);

	e1 = epoll_create1(0);
	e2 = epoll_create1(0);
	if (e1 < 0 || e2 < 0 || pipe(p)) {
		pr_perror("epoll_create1/pipe");
		return 1;
	}
	if (ep_add(e1, p[0], EPOLLIN | EPOLLEXCLUSIVE, C1) || ep_add(e2, p[0], EPOLLIN | EPOLLEXCLUSIVE | EPOLLET, C2))
		return 1;
	if (epoll_tfds(e1, before1, sizeof(before1)) || epoll_tfds(e2, before2, sizeof(before2)))
		return 1;
	if (!strstr(before1, "events: 10000019") || !strstr(before2, "events: 90000019")) {
		fail("unexpected events before C/R:\n%s%s", before1, before2);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (same_tfds(e1, before1, "first epoll after C/R") || same_tfds(e2, before2, "second epoll after C/R"))
		return 1;
	if (expect_wait(e1, 0, 0, 0, "empty pipe") || expect_wait(e2, 0, 0, 0, "empty pipe, second epoll"))
		return 1;
	ev.events = EPOLLIN;
	ev.data.u64 = C1;
	if (epoll_ctl(e1, EPOLL_CTL_MOD, p[0], &ev) != -1 || errno != EINVAL) {
		fail("EPOLL_CTL_MOD of the exclusive registration did not fail with EINVAL");
		return 1;
	}
	if (write(p[1], "x", 1) != 1 || expect_wait(e1, 1, EPOLLIN, C1, "data, first epoll"))
		return 1;
	/* no task waits in epoll_wait: the wakeup reaches both exclusive items */
	n = epoll_wait(e2, &ev, 1, 0);
	if (n != 1 || ev.events != EPOLLIN || ev.data.u64 != C2) {
		fail("second epoll: %d events (%#x %#llx)", n, n == 1 ? ev.events : 0,
		     n == 1 ? (unsigned long long)ev.data.u64 : 0ULL);
		return 1;
	}
	if (epoll_ctl(e2, EPOLL_CTL_DEL, p[0], NULL) || epoll_count(e2) != 0 || epoll_count(e1) != 1) {
		fail("EPOLL_CTL_DEL of the second registration");
		return 1;
	}
	pass();
	return 0;
}
