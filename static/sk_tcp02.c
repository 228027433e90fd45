#include "sk_inet.h"

const char *test_doc = "IPv4 TCP listeners: one never bound (listen() gave it a port), one bound to 127.0.0.1 "
		       "with SO_REUSEADDR, one bound to the wildcard with port 0; after C/R each keeps its address, "
		       "port, backlog (TCP_INFO) and SO_REUSEADDR, and accepts a new connection";
const char *test_author = "Stasis developers";

#define N 3

static int check_accepts(int l, int i)
{
	union sk_addr a;
	int c, s;

	if (sk_name(l, &a, 0))
		return -1;
	if (a.v4.sin_addr.s_addr == htonl(INADDR_ANY))
		inet_pton(AF_INET, "127.0.0.1", &a.v4.sin_addr);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, &a.sa, sizeof(a.v4)))
		return -1;
	s = accept(l, NULL, NULL);
	if (s < 0 || sk_roundtrip(c, s, 10 + 2 * i))
		return -1;
	close(s);
	close(c);
	return 0;
}

int main(int argc, char **argv)
{
	int l[N], backlog[N] = { 7, 3, 5 }, reuse[N] = { 0, 1, 0 };
	union sk_addr names[N];
	int i;

	test_init(argc, argv);

	l[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (l[0] < 0 || listen(l[0], backlog[0]))
		return pr_perror("listen without bind");
	l[1] = sk_listener(AF_INET, "127.0.0.1", 0, backlog[1], 1);
	l[2] = sk_listener(AF_INET, "0.0.0.0", 0, backlog[2], 0);
	if (l[1] < 0 || l[2] < 0)
		return pr_perror("listeners");
	for (i = 0; i < N; i++)
		if (sk_name(l[i], &names[i], 0))
			return pr_perror("getsockname");

	test_daemon();
	test_waitsig();

	for (i = 0; i < N; i++) {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);

		if (sk_same_name(l[i], &names[i], 0)) {
			fail("listener %d: another name after C/R", i);
			return 1;
		}
		if (getsockopt(l[i], IPPROTO_TCP, TCP_INFO, &ti, &len) || ti.tcpi_state != TCP_LISTEN ||
		    ti.tcpi_sacked != (unsigned)backlog[i] || ti.tcpi_unacked != 0) {
			fail("listener %d: state %d backlog %u (expected %d)", i, ti.tcpi_state, ti.tcpi_sacked,
			     backlog[i]);
			return 1;
		}
		if (!!sk_getint(l[i], SOL_SOCKET, SO_REUSEADDR) != reuse[i]) {
			fail("listener %d: SO_REUSEADDR %d", i, sk_getint(l[i], SOL_SOCKET, SO_REUSEADDR));
			return 1;
		}
		if (check_accepts(l[i], i)) {
			fail("listener %d does not accept after C/R", i);
			return 1;
		}
	}
	pass();
	return 0;
}
