#include <sys/epoll.h>

#include "sk_unix.h"

const char *test_doc = "Unix sockets in an epoll set: a listener, an accepted "
		       "connection with data queued (EPOLLIN), its peer (EPOLLOUT only) and a datagram "
		       "receiver with a queued datagram; after C/R epoll reports the same events with the same "
		       "data, and a new client makes the listener readable";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int lsk, csk, ask, rcv, snd, ep, n, i;
	char lname[64], rname[64];
	struct epoll_event ev, evs[8];
	unsigned got[5] = {};

	test_init(argc, argv);

	snprintf(lname, sizeof(lname), "@stasis-sk-unix08-l-%d", getpid());
	snprintf(rname, sizeof(rname), "@stasis-sk-unix08-r-%d", getpid());
	lsk = socket(AF_UNIX, SOCK_STREAM, 0);
	csk = socket(AF_UNIX, SOCK_STREAM, 0);
	rcv = socket(AF_UNIX, SOCK_DGRAM, 0);
	snd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (lsk < 0 || csk < 0 || rcv < 0 || snd < 0 || sk_bind(lsk, lname) || listen(lsk, 4) ||
	    sk_connect(csk, lname) || (ask = accept(lsk, NULL, NULL)) < 0 || sk_bind(rcv, rname) ||
	    sk_connect(snd, rname)) {
		pr_perror("sockets");
		return 1;
	}
	if (sk_send(csk, 1, 0, 10) || sk_send(snd, 2, 0, 10)) {
		pr_perror("send");
		return 1;
	}
	ep = epoll_create1(0);
	if (ep < 0) {
		pr_perror("epoll_create1");
		return 1;
	}
	{
		int fds[4] = { lsk, ask, csk, rcv };
		unsigned evm[4] = { EPOLLIN, EPOLLIN | EPOLLOUT, EPOLLIN | EPOLLOUT, EPOLLIN };

		for (i = 0; i < 4; i++) {
			ev.events = evm[i];
			ev.data.u64 = i + 1;
			if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev)) {
				pr_perror("epoll_ctl");
				return 1;
			}
		}
	}

	test_daemon();
	test_waitsig();

	n = epoll_wait(ep, evs, 8, 0);
	for (i = 0; i < n; i++)
		if (evs[i].data.u64 >= 1 && evs[i].data.u64 <= 4)
			got[evs[i].data.u64] = evs[i].events;
	if (n != 3 || got[1] || got[2] != (EPOLLIN | EPOLLOUT) || got[3] != EPOLLOUT || got[4] != EPOLLIN) {
		fail("epoll after C/R: %d events (listener %#x, accepted %#x, client %#x, receiver %#x)", n, got[1],
		     got[2], got[3], got[4]);
		return 1;
	}
	if (sk_recv_stream(ask, 1, 0, 10) || sk_recv_msg(rcv, 2, 0, 10, 0)) {
		fail("data after C/R");
		return 1;
	}
	{
		int c = socket(AF_UNIX, SOCK_STREAM, 0);

		if (c < 0 || sk_connect(c, lname) || epoll_wait(ep, evs, 8, 1000) != 3) {
			fail("a new client does not make the listener readable");
			return 1;
		}
	}
	pass();
	return 0;
}
