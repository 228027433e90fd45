#include <sys/ioctl.h>

#include "epoll_common.h"

const char *test_doc = "A pipe's read end registered (EPOLLIN) with data queued, a second pipe registered but "
		       "empty: after C/R epoll_wait reports the ready one at once with its data cookie, the "
		       "registrations (fdinfo tfd, events, data) are as before, and the data is intact";
const char *test_author = "Stasis developers";

#define COOKIE_A 0x1122334455667788ULL
#define COOKIE_B 0xfeedfacecafe0001ULL
#define MSG "epoll00 payload"

int main(int argc, char **argv)
{
	char before[TFD_TEXT], buf[64];
	int a[2], b[2], ep, avail = -1;

	test_init(argc, argv);

	ep = epoll_create1(0);
	if (ep < 0 || pipe(a) || pipe(b)) {
		pr_perror("epoll_create1/pipe");
		return 1;
	}
	if (ep_add(ep, a[0], EPOLLIN, COOKIE_A) || ep_add(ep, b[0], EPOLLIN | EPOLLRDHUP, COOKIE_B))
		return 1;
	if (write(a[1], MSG, sizeof(MSG)) != sizeof(MSG)) {
		pr_perror("write");
		return 1;
	}
	if (expect_wait(ep, 1, EPOLLIN, COOKIE_A, "before C/R") || epoll_tfds(ep, before, sizeof(before)))
		return 1;

	test_daemon();
	test_waitsig();

	if (same_tfds(ep, before, "after C/R"))
		return 1;
	if (expect_wait(ep, 1, EPOLLIN, COOKIE_A, "after C/R"))
		return 1;
	if (ioctl(a[0], FIONREAD, &avail) || avail != sizeof(MSG)) {
		fail("%d bytes queued after C/R, expected %zu", avail, sizeof(MSG));
		return 1;
	}
	if (read(a[0], buf, sizeof(buf)) != sizeof(MSG) || memcmp(buf, MSG, sizeof(MSG))) {
		fail("the queued data differs after C/R");
		return 1;
	}
	if (expect_wait(ep, 0, 0, 0, "drained"))
		return 1;
	if (write(b[1], "x", 1) != 1 || expect_wait(ep, 1, EPOLLIN, COOKIE_B, "second pipe written"))
		return 1;
	close(b[1]);
	if (expect_wait(ep, 1, EPOLLIN | EPOLLHUP, COOKIE_B, "second pipe's writer closed"))
		return 1;
	pass();
	return 0;
}
