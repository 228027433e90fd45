#include "sk_inet.h"

#ifdef SK_V6
#define FAM AF_INET6
#define HOST "::1"
const char *test_doc = "An established IPv6 TCP connection inside the tree with data queued both ways: more than "
		       "the peer's receive buffer one way (part of it never sent), a little the other way; every "
		       "byte arrives after C/R, names and options are kept, the connection goes on both ways";
#else
#define FAM AF_INET
#define HOST "127.0.0.1"
const char *test_doc = "An established IPv4 TCP connection inside the tree with data queued both ways: more than "
		       "the peer's receive buffer one way (part of it never sent), a little the other way; every "
		       "byte arrives after C/R, names and options are kept, the connection goes on both ways";
#endif
const char *test_author = "Stasis developers";

#define BACK 3000

int main(int argc, char **argv)
{
	union sk_addr an, ap, bn, bp, la;
	int l, a, b, port;
	long sent_a, sent_b;
	int unsent, outq;

	test_init(argc, argv);

	l = sk_listener(FAM, HOST, 0, 1, 0);
	if (l < 0 || sk_name(l, &la, 0))
		return pr_perror("listener");
	port = sk_port(&la);
	b = socket(FAM, SOCK_STREAM, 0);
	if (b < 0 || sk_setint(b, SOL_SOCKET, SO_RCVBUF, 4096))
		return pr_perror("socket");
	sk_addr_set(&la, FAM, HOST, port);
	if (connect(b, &la.sa, sk_alen(FAM)))
		return pr_perror("connect");
	a = accept(l, NULL, NULL);
	if (a < 0)
		return pr_perror("accept");
	close(l);
	if (sk_setint(a, IPPROTO_TCP, TCP_NODELAY, 1))
		return pr_perror("TCP_NODELAY");

	sent_a = sk_fill(a, 1, 0, 4 << 20);
	sent_b = sk_fill(b, 2, 0, BACK);
	if (sent_a <= 0 || sent_b != BACK)
		return pr_perror("fill: %ld %ld", sent_a, sent_b);
	usleep(100000);
	outq = sk_ioctl(a, SIOCOUTQ);
	unsent = sk_ioctl(a, SIOCOUTQNSD);
	if (unsent <= 0) {
		pr_err("nothing stays unsent (outq %d), the test proves less than it should\n", outq);
		return 1;
	}
	test_msg("a sent %ld (outq %d, unsent %d), b sent %ld\n", sent_a, outq, unsent, sent_b);
	if (sk_name(a, &an, 0) || sk_name(a, &ap, 1) || sk_name(b, &bn, 0) || sk_name(b, &bp, 1))
		return pr_perror("names");

	test_daemon();
	test_waitsig();

	if (sk_same_name(a, &an, 0) || sk_same_name(a, &ap, 1) || sk_same_name(b, &bn, 0) ||
	    sk_same_name(b, &bp, 1)) {
		fail("socket names changed");
		return 1;
	}
	if (sk_tcp_state(a) != TCP_ESTABLISHED || sk_tcp_state(b) != TCP_ESTABLISHED) {
		fail("states %d %d after C/R", sk_tcp_state(a), sk_tcp_state(b));
		return 1;
	}
	if (sk_getint(a, IPPROTO_TCP, TCP_NODELAY) != 1 || sk_getint(b, IPPROTO_TCP, TCP_NODELAY) != 0) {
		fail("TCP_NODELAY lost");
		return 1;
	}
	if (sk_ioctl(a, SIOCINQ) != BACK) {
		fail("a has %d bytes to read, expected %d", sk_ioctl(a, SIOCINQ), BACK);
		return 1;
	}
	if (sk_expect(a, 2, 0, BACK) || !sk_empty(a)) {
		fail("a: the %d queued bytes", BACK);
		return 1;
	}
	if (sk_expect(b, 1, 0, sent_a) || !sk_empty(b)) {
		fail("b: the %ld queued bytes", sent_a);
		return 1;
	}
	if (sk_roundtrip(a, b, 5)) {
		fail("the connection does not work both ways after C/R");
		return 1;
	}
	pass();
	return 0;
}
