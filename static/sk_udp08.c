#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Non-blocking UDP sockets in an epoll set: one with a datagram queued (level-triggered "
		       "EPOLLIN), one empty (edge-triggered EPOLLIN), and a netlink socket; after C/R epoll reports "
		       "exactly the socket with data, with its registered data, and the other once a datagram comes";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, a1, a2;
	struct epoll_event ev, got[4];
	int ep, u1, u2, nl, s, n;
	socklen_t l;
	char buf[32];

	test_init(argc, argv);

	ep = epoll_create1(EPOLL_CLOEXEC);
	u1 = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	u2 = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	nl = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, 0);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (ep < 0 || u1 < 0 || u2 < 0 || nl < 0 || s < 0)
		return pr_perror("socket");
	l = sizeof(a1);
	if (bind(u1, (struct sockaddr *)&lo, sizeof(lo)) || getsockname(u1, (struct sockaddr *)&a1, &l))
		return pr_perror("bind");
	l = sizeof(a2);
	if (bind(u2, (struct sockaddr *)&lo, sizeof(lo)) || getsockname(u2, (struct sockaddr *)&a2, &l))
		return pr_perror("bind");
	ev.events = EPOLLIN;
	ev.data.u64 = 0x1111;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, u1, &ev))
		return pr_perror("epoll_ctl");
	ev.events = EPOLLIN | EPOLLET;
	ev.data.u64 = 0x2222;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, u2, &ev))
		return pr_perror("epoll_ctl");
	ev.events = EPOLLIN;
	ev.data.u64 = 0x3333;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, nl, &ev))
		return pr_perror("epoll_ctl");
	if (sendto(s, "ready", 5, 0, (struct sockaddr *)&a1, sizeof(a1)) != 5)
		return pr_perror("sendto");

	test_daemon();
	test_waitsig();

	if (!(fcntl(u1, F_GETFL) & O_NONBLOCK) || !(fcntl(u2, F_GETFL) & O_NONBLOCK)) {
		fail("O_NONBLOCK lost");
		return 1;
	}
	n = epoll_wait(ep, got, 4, 1000);
	if (n != 1 || got[0].data.u64 != 0x1111 || !(got[0].events & EPOLLIN)) {
		fail("epoll_wait: %d events, first data %llx", n, n > 0 ? (unsigned long long)got[0].data.u64 : 0ULL);
		return 1;
	}
	if (recv(u1, buf, sizeof(buf), 0) != 5 || memcmp(buf, "ready", 5)) {
		fail("the queued datagram");
		return 1;
	}
	if (recv(u1, buf, sizeof(buf), 0) != -1 || errno != EAGAIN) {
		fail("u1 is not non-blocking");
		return 1;
	}
	if (sendto(s, "edge", 4, 0, (struct sockaddr *)&a2, sizeof(a2)) != 4) {
		fail("sendto");
		return 1;
	}
	n = epoll_wait(ep, got, 4, 1000);
	if (n != 1 || got[0].data.u64 != 0x2222) {
		fail("epoll_wait after a datagram to u2: %d events", n);
		return 1;
	}
	if (epoll_wait(ep, got, 4, 0) != 0) {
		fail("the edge-triggered socket was reported twice");
		return 1;
	}
	pass();
	return 0;
}
