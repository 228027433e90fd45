#include <sys/epoll.h>

#include "sk_inet.h"

const char *test_doc = "TCP sockets in an epoll set: a listener and both ends of an established connection with "
		       "data waiting on one end; after C/R epoll reports the waiting data, a new connection on the "
		       "listener and the other end once written to";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int ep, l, a, b, c, n, i, seen_l = 0, seen_a = 0;
	struct epoll_event ev, evs[8];
	union sk_addr la;

	test_init(argc, argv);

	l = sk_listener(AF_INET, "127.0.0.1", 0, 4, 0);
	if (l < 0 || sk_name(l, &la, 0) || sk_pair(AF_INET, "127.0.0.1", &a, &b))
		return pr_perror("sockets");
	ep = epoll_create1(0);
	if (ep < 0)
		return pr_perror("epoll");
	ev.events = EPOLLIN;
	ev.data.fd = l;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev))
		return pr_perror("epoll_ctl");
	ev.data.fd = a;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev))
		return pr_perror("epoll_ctl");
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.fd = b;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, b, &ev))
		return pr_perror("epoll_ctl");
	if (sk_fill(b, 4, 0, 500) != 500)
		return pr_perror("write");
	usleep(50000);

	test_daemon();
	test_waitsig();

	n = epoll_wait(ep, evs, 8, 1000);
	if (n != 1 || evs[0].data.fd != a || !(evs[0].events & EPOLLIN)) {
		fail("epoll after C/R: %d events (first fd %d), expected a readable", n, n > 0 ? evs[0].data.fd : -1);
		return 1;
	}
	if (sk_expect(a, 4, 0, 500))
		return fail("data"), 1;
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, &la.sa, sizeof(la.v4)))
		return fail("connect: %m"), 1;
	if (sk_fill(a, 5, 0, 10) != 10)
		return fail("write"), 1;
	for (i = 0; i < 10 && (!seen_l || !seen_a); i++) {
		int k;

		n = epoll_wait(ep, evs, 8, 1000);
		for (k = 0; k < n; k++) {
			if (evs[k].data.fd == l)
				seen_l = 1;
			if (evs[k].data.fd == b)
				seen_a = 1;
		}
		if (seen_l && seen_a)
			break;
	}
	if (!seen_l || !seen_a) {
		fail("epoll did not report the listener (%d) or b (%d)", seen_l, seen_a);
		return 1;
	}
	if (sk_expect(b, 5, 0, 10) || accept(l, NULL, NULL) < 0)
		return fail("after the events"), 1;
	pass();
	return 0;
}
