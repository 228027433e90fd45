#include "epoll_common.h"

const char *test_doc = "A EPOLLONESHOT registration that fired on a pipe then drained: restoring it disarmed "
		       "needs the target ready for some event, which it is not, so the dump is refused with the "
		       "tree left running; afterwards the registration is still disarmed and re-arms with MOD";
const char *test_author = "Stasis developers";

#define COOKIE 0x0501e5d0ULL

int main(int argc, char **argv)
{
	char before[TFD_TEXT], buf[4];
	struct epoll_event ev;
	int p[2], ep;

	test_init(argc, argv);

	ep = epoll_create1(0);
	if (ep < 0 || pipe(p)) {
		pr_perror("epoll_create1/pipe");
		return 1;
	}
	if (ep_add(ep, p[0], EPOLLIN | EPOLLONESHOT, COOKIE) || write(p[1], "x", 1) != 1)
		return 1;
	if (expect_wait(ep, 1, EPOLLIN, COOKIE, "the oneshot fires") || read(p[0], buf, 1) != 1 ||
	    epoll_tfds(ep, before, sizeof(before)))
		return 1;

	test_daemon();
	test_waitsig();

	if (same_tfds(ep, before, "after the refused dump"))
		return 1;
	if (write(p[1], "y", 1) != 1 || expect_wait(ep, 0, 0, 0, "still disarmed"))
		return 1;
	ev.events = EPOLLIN;
	ev.data.u64 = COOKIE;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) || expect_wait(ep, 1, EPOLLIN, COOKIE, "re-armed"))
		return 1;
	pass();
	return 0;
}
