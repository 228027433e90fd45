#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "UDP shutdown states: a connected socket shut for reading with a datagram still queued, its "
		       "peer shut for writing (send fails with EPIPE), a bound unconnected socket shut both ways, "
		       "a socket never bound or used";
const char *test_author = "Stasis developers";

static int events(int fd)
{
	struct pollfd p = { fd, POLLIN | POLLOUT | POLLRDHUP };

	if (poll(&p, 1, 0) < 0)
		return -1;
	return p.revents;
}

int main(int argc, char **argv)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, aa, ab, x;
	int a, b, c, d, ev;
	socklen_t l;
	char buf[64];

	test_init(argc, argv);

	a = socket(AF_INET, SOCK_DGRAM, 0);
	b = socket(AF_INET, SOCK_DGRAM, 0);
	c = socket(AF_INET, SOCK_DGRAM, 0);
	d = socket(AF_INET, SOCK_DGRAM, 0);
	if (a < 0 || b < 0 || c < 0 || d < 0)
		return pr_perror("socket");
	l = sizeof(aa);
	if (bind(a, (struct sockaddr *)&lo, sizeof(lo)) || getsockname(a, (struct sockaddr *)&aa, &l))
		return pr_perror("bind a");
	l = sizeof(ab);
	if (bind(b, (struct sockaddr *)&lo, sizeof(lo)) || getsockname(b, (struct sockaddr *)&ab, &l))
		return pr_perror("bind b");
	if (bind(c, (struct sockaddr *)&lo, sizeof(lo)))
		return pr_perror("bind c");
	if (connect(a, (struct sockaddr *)&ab, sizeof(ab)) || connect(b, (struct sockaddr *)&aa, sizeof(aa)))
		return pr_perror("connect");
	if (send(b, "queued", 6, 0) != 6)
		return pr_perror("send");
	if (shutdown(a, SHUT_RD) || shutdown(b, SHUT_WR))
		return pr_perror("shutdown");
	if (shutdown(c, SHUT_RDWR) == 0 || errno != ENOTCONN)
		return pr_err("shutdown of an unconnected socket did not say ENOTCONN\n");

	test_daemon();
	test_waitsig();

	ev = events(a);
	if (!(ev & POLLRDHUP) || (ev & POLLHUP)) {
		fail("a: poll events %x, expected RDHUP without HUP", ev);
		return 1;
	}
	if (recv(a, buf, sizeof(buf), MSG_DONTWAIT) != 6 || memcmp(buf, "queued", 6)) {
		fail("a: the datagram queued before shutdown");
		return 1;
	}
	if (recv(a, buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN) {
		fail("a: more after the queue");
		return 1;
	}
	if (send(a, "still", 5, 0) != 5) {
		fail("a can still send");
		return 1;
	}
	if (recv(b, buf, sizeof(buf), MSG_DONTWAIT) != 5 || memcmp(buf, "still", 5)) {
		fail("b: recv after C/R");
		return 1;
	}
	if (send(b, "x", 1, MSG_NOSIGNAL) != -1 || errno != EPIPE) {
		fail("b: send after SHUT_WR did not fail with EPIPE");
		return 1;
	}
	ev = events(b);
	if (ev & (POLLRDHUP | POLLHUP)) {
		fail("b: poll events %x", ev);
		return 1;
	}
	ev = events(c);
	if (!(ev & POLLHUP)) {
		fail("c: poll events %x, expected HUP", ev);
		return 1;
	}
	l = sizeof(x);
	if (getsockname(d, (struct sockaddr *)&x, &l) || x.sin_port || x.sin_addr.s_addr) {
		fail("d is bound to %s:%d", inet_ntoa(x.sin_addr), ntohs(x.sin_port));
		return 1;
	}
	ev = events(d);
	if (ev & (POLLRDHUP | POLLHUP)) {
		fail("d: poll events %x", ev);
		return 1;
	}
	pass();
	return 0;
}
