#include "epoll_common.h"

const char *test_doc = "EPOLLONESHOT registrations: one armed on an empty pipe, one on a pipe with data and one "
		       "on a pipe's write end that both fired before the dump (their events masked by the kernel): "
		       "after C/R the fdinfo is as before, the fired ones stay disarmed, the armed one fires once, "
		       "and EPOLL_CTL_MOD re-arms a fired one";
const char *test_author = "Stasis developers";

#define CA 0xa0a0a0a0a0a0a0a0ULL
#define CB 0xb0b0b0b0b0b0b0b0ULL
#define CC 0xc0c0c0c0c0c0c0c0ULL

int main(int argc, char **argv)
{
	char before[TFD_TEXT], buf[16];
	struct epoll_event ev[4];
	int a[2], b[2], c[2], ep, n;

	test_init(argc, argv);

	ep = epoll_create1(0);
	if (ep < 0 || pipe(a) || pipe(b) || pipe(c)) {
		pr_perror("epoll_create1/pipe");
		return 1;
	}
	if (ep_add(ep, a[0], EPOLLIN | EPOLLONESHOT, CA) || ep_add(ep, b[0], EPOLLIN | EPOLLONESHOT | EPOLLET, CB) ||
	    ep_add(ep, c[1], EPOLLOUT | EPOLLONESHOT, CC))
		return 1;
	if (write(b[1], "bb", 2) != 2) {
		pr_perror("write");
		return 1;
	}
	n = epoll_wait(ep, ev, 4, 0);
	if (n != 2) {
		fail("before C/R: %d events, expected the two ready oneshots", n);
		return 1;
	}
	if (expect_wait(ep, 0, 0, 0, "fired oneshots are disarmed") || epoll_tfds(ep, before, sizeof(before)))
		return 1;
	if (!strstr(before, "events: 40000000") || !strstr(before, "events: c0000000")) {
		fail("the kernel did not mask the fired oneshots as expected:\n%s", before);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (same_tfds(ep, before, "after C/R"))
		return 1;
	if (expect_wait(ep, 0, 0, 0, "after C/R: nothing armed is ready"))
		return 1;
	if (write(a[1], "a", 1) != 1 || expect_wait(ep, 1, EPOLLIN, CA, "the armed oneshot") ||
	    expect_wait(ep, 0, 0, 0, "it fired once"))
		return 1;
	ev[0].events = EPOLLIN | EPOLLONESHOT;
	ev[0].data.u64 = CB;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, b[0], &ev[0])) {
		fail("EPOLL_CTL_MOD of the fired oneshot on fd %d", b[0]);
		return 1;
	}
	if (expect_wait(ep, 1, EPOLLIN, CB, "the re-armed oneshot") || expect_wait(ep, 0, 0, 0, "fired again"))
		return 1;
	ev[0].events = EPOLLOUT;
	ev[0].data.u64 = CC;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c[1], &ev[0]) || expect_wait(ep, 1, EPOLLOUT, CC, "write end re-armed"))
		return 1;
	if (read(b[0], buf, sizeof(buf)) != 2 || memcmp(buf, "bb", 2)) {
		fail("the data of the fired pipe changed");
		return 1;
	}
	pass();
	return 0;
}
