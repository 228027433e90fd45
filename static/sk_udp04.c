#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "UDP-Lite over IPv4 and IPv6: bound sockets with datagrams queued from a sender with partial "
		       "checksum coverage, UDPLITE_SEND_CSCOV and UDPLITE_RECV_CSCOV kept; every datagram with its "
		       "sender after C/R, and traffic after";
const char *test_author = "Stasis developers";

#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif
#define UDPLITE_SEND_CSCOV 10
#define UDPLITE_RECV_CSCOV 11
#define NR 6

static int get(int fd, int opt)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, IPPROTO_UDPLITE, opt, &v, &l))
		return -1;
	return v;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ar[2], as[2], from;
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 lo6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int r[2], s[2], f, i, n, cov = 20, rcov = 8;
	socklen_t l;
	char buf[256], want[64];

	test_init(argc, argv);

	for (f = 0; f < 2; f++) {
		int fam = f ? AF_INET6 : AF_INET;
		struct sockaddr *a = f ? (struct sockaddr *)&lo6 : (struct sockaddr *)&lo;
		socklen_t al = f ? sizeof(lo6) : sizeof(lo);

		r[f] = socket(fam, SOCK_DGRAM, IPPROTO_UDPLITE);
		s[f] = socket(fam, SOCK_DGRAM, IPPROTO_UDPLITE);
		if (r[f] < 0 || s[f] < 0)
			return pr_perror("socket(UDP-Lite)");
		if (setsockopt(s[f], IPPROTO_UDPLITE, UDPLITE_SEND_CSCOV, &cov, sizeof(cov)) ||
		    setsockopt(r[f], IPPROTO_UDPLITE, UDPLITE_RECV_CSCOV, &rcov, sizeof(rcov)))
			return pr_perror("CSCOV");
		if (bind(r[f], a, al) || bind(s[f], a, al))
			return pr_perror("bind");
		l = sizeof(ar[f]);
		if (getsockname(r[f], (struct sockaddr *)&ar[f], &l))
			return pr_perror("getsockname");
		l = sizeof(as[f]);
		if (getsockname(s[f], (struct sockaddr *)&as[f], &l))
			return pr_perror("getsockname");
		for (i = 0; i < NR; i++) {
			n = snprintf(want, sizeof(want), "udplite %d datagram %d with some length", f, i);
			if (sendto(s[f], want, n, 0, (struct sockaddr *)&ar[f], l) != n)
				return pr_perror("sendto");
		}
	}

	test_daemon();
	test_waitsig();

	for (f = 0; f < 2; f++) {
		if (get(s[f], UDPLITE_SEND_CSCOV) != cov || get(r[f], UDPLITE_RECV_CSCOV) != rcov) {
			fail("coverage options %d %d", get(s[f], UDPLITE_SEND_CSCOV), get(r[f], UDPLITE_RECV_CSCOV));
			return 1;
		}
		for (i = 0; i < NR; i++) {
			l = sizeof(from);
			memset(&from, 0, sizeof(from));
			n = recvfrom(r[f], buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &l);
			snprintf(want, sizeof(want), "udplite %d datagram %d with some length", f, i);
			if (n != (int)strlen(want) || memcmp(buf, want, n)) {
				fail("family %d datagram %d: %d bytes", f, i, n);
				return 1;
			}
			if (memcmp(&from, &as[f], f ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in))) {
				fail("family %d datagram %d: another sender", f, i);
				return 1;
			}
		}
		if (recv(r[f], buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN) {
			fail("an extra datagram");
			return 1;
		}
		l = f ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
		if (sendto(s[f], "after", 5, 0, (struct sockaddr *)&ar[f], l) != 5 || recv(r[f], buf, sizeof(buf), 0) != 5 ||
		    memcmp(buf, "after", 5)) {
			fail("traffic after C/R");
			return 1;
		}
	}
	pass();
	return 0;
}
