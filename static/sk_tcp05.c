#include "sk_inet.h"

const char *test_doc = "TCP sockets never connected, with their options: unbound, bound to port 0 (a port was "
		       "given), bound to ::1 with IPV6_V6ONLY; TCP_NODELAY, TCP_CORK, keepalive idle/intvl/cnt, "
		       "TCP_USER_TIMEOUT, TCP_NOTSENT_LOWAT, TCP_CONGESTION, TCP_MAXSEG, TCP_DEFER_ACCEPT, SO_LINGER, "
		       "buffer sizes, SO_KEEPALIVE, SO_PRIORITY, SO_RCVLOWAT, timeouts: all read back after C/R, "
		       "and the sockets still connect";
const char *test_author = "Stasis developers";

struct iopt {
	int level, opt, val;
	const char *name;
};

static const struct iopt opts[] = {
	{ IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY" },
	{ IPPROTO_TCP, TCP_CORK, 1, "TCP_CORK" },
	{ IPPROTO_TCP, TCP_KEEPIDLE, 77, "TCP_KEEPIDLE" },
	{ IPPROTO_TCP, TCP_KEEPINTVL, 13, "TCP_KEEPINTVL" },
	{ IPPROTO_TCP, TCP_KEEPCNT, 4, "TCP_KEEPCNT" },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT, 12345, "TCP_USER_TIMEOUT" },
	{ IPPROTO_TCP, TCP_NOTSENT_LOWAT, 65536, "TCP_NOTSENT_LOWAT" },
	{ IPPROTO_TCP, TCP_MAXSEG, 1200, "TCP_MAXSEG" },
	{ SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE" },
	{ SOL_SOCKET, SO_PRIORITY, 3, "SO_PRIORITY" },
	{ SOL_SOCKET, SO_RCVLOWAT, 10, "SO_RCVLOWAT" },
};
#define NOPTS (int)(sizeof(opts) / sizeof(opts[0]))

int main(int argc, char **argv)
{
	int s[3], i, j, defer_before, sndbuf, rcvbuf;
	union sk_addr a, n1, n2;
	struct linger lg = { 1, 9 }, lg2;
	struct timeval tv = { 3, 500000 }, tv2;
	char cc[16];
	socklen_t len;

	test_init(argc, argv);

	s[0] = socket(AF_INET, SOCK_STREAM, 0);
	s[1] = socket(AF_INET, SOCK_STREAM, 0);
	s[2] = socket(AF_INET6, SOCK_STREAM, 0);
	if (s[0] < 0 || s[1] < 0 || s[2] < 0)
		return pr_perror("socket");
	for (i = 0; i < 3; i++)
		for (j = 0; j < NOPTS; j++)
			if (sk_setint(s[i], opts[j].level, opts[j].opt, opts[j].val + i))
				return pr_perror("%s on %d", opts[j].name, i);
	if (setsockopt(s[0], IPPROTO_TCP, TCP_CONGESTION, "reno", 4) ||
	    setsockopt(s[1], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) ||
	    setsockopt(s[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) || sk_setint(s[1], IPPROTO_TCP, TCP_DEFER_ACCEPT, 5) ||
	    sk_setint(s[0], SOL_SOCKET, SO_SNDBUF, 50000) || sk_setint(s[0], SOL_SOCKET, SO_RCVBUF, 70000) ||
	    sk_setint(s[2], IPPROTO_IPV6, IPV6_V6ONLY, 1))
		return pr_perror("options");
	defer_before = sk_getint(s[1], IPPROTO_TCP, TCP_DEFER_ACCEPT);
	sndbuf = sk_getint(s[0], SOL_SOCKET, SO_SNDBUF);
	rcvbuf = sk_getint(s[0], SOL_SOCKET, SO_RCVBUF);
	sk_addr_set(&a, AF_INET, "127.0.0.1", 0);
	if (bind(s[1], &a.sa, sizeof(a.v4)) || sk_name(s[1], &n1, 0))
		return pr_perror("bind");
	sk_addr_set(&a, AF_INET6, "::1", 0);
	if (bind(s[2], &a.sa, sizeof(a.v6)) || sk_name(s[2], &n2, 0))
		return pr_perror("bind v6");

	test_daemon();
	test_waitsig();

	for (i = 0; i < 3; i++) {
		if (sk_tcp_state(s[i]) != TCP_CLOSE) {
			fail("socket %d: state %d", i, sk_tcp_state(s[i]));
			return 1;
		}
		for (j = 0; j < NOPTS; j++) {
			int want = opts[j].val + i, have = sk_getint(s[i], opts[j].level, opts[j].opt);

			if (opts[j].opt == SO_KEEPALIVE || opts[j].opt == TCP_NODELAY || opts[j].opt == TCP_CORK)
				want = 1;
			if (have != want) {
				fail("socket %d: %s is %d, expected %d", i, opts[j].name, have, want);
				return 1;
			}
		}
	}
	len = sizeof(cc);
	memset(cc, 0, sizeof(cc));
	if (getsockopt(s[0], IPPROTO_TCP, TCP_CONGESTION, cc, &len) || strcmp(cc, "reno")) {
		fail("TCP_CONGESTION is %s", cc);
		return 1;
	}
	len = sizeof(lg2);
	if (getsockopt(s[1], SOL_SOCKET, SO_LINGER, &lg2, &len) || lg2.l_onoff != 1 || lg2.l_linger != 9) {
		fail("SO_LINGER %d %d", lg2.l_onoff, lg2.l_linger);
		return 1;
	}
	len = sizeof(tv2);
	if (getsockopt(s[1], SOL_SOCKET, SO_RCVTIMEO, &tv2, &len) || tv2.tv_sec != 3 || tv2.tv_usec != 500000) {
		fail("SO_RCVTIMEO %ld.%06ld", (long)tv2.tv_sec, (long)tv2.tv_usec);
		return 1;
	}
	if (sk_getint(s[1], IPPROTO_TCP, TCP_DEFER_ACCEPT) != defer_before ||
	    sk_getint(s[0], SOL_SOCKET, SO_SNDBUF) != sndbuf || sk_getint(s[0], SOL_SOCKET, SO_RCVBUF) != rcvbuf) {
		fail("TCP_DEFER_ACCEPT %d/%d, SO_SNDBUF %d/%d, SO_RCVBUF %d/%d",
		     sk_getint(s[1], IPPROTO_TCP, TCP_DEFER_ACCEPT), defer_before,
		     sk_getint(s[0], SOL_SOCKET, SO_SNDBUF), sndbuf, sk_getint(s[0], SOL_SOCKET, SO_RCVBUF), rcvbuf);
		return 1;
	}
	if (sk_same_name(s[1], &n1, 0) || sk_same_name(s[2], &n2, 0) ||
	    sk_getint(s[2], IPPROTO_IPV6, IPV6_V6ONLY) != 1) {
		fail("bound names or IPV6_V6ONLY changed");
		return 1;
	}
	/* they still work: the bound ones listen and the unbound one connects to the first */
	if (listen(s[1], 1) || listen(s[2], 1)) {
		fail("listen after C/R: %m");
		return 1;
	}
	if (connect(s[0], &n1.sa, sizeof(n1.v4))) {
		fail("connect after C/R: %m");
		return 1;
	}
	pass();
	return 0;
}
