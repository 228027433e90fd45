#include "sk_inet.h"

const char *test_doc = "Half-closed TCP connections inside the tree: one end shut down for writing with data "
		       "the peer has not read (FIN_WAIT2 / CLOSE_WAIT), and one end shut down for reading; after "
		       "C/R the states are the same, the peer reads every byte then end-of-file, and the "
		       "half-closed end still receives";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int a, b, c, d;

	test_init(argc, argv);

	if (sk_pair(AF_INET, "127.0.0.1", &a, &b) || sk_pair(AF_INET6, "::1", &c, &d))
		return pr_perror("pairs");
	if (sk_fill(a, 1, 0, 2000) != 2000 || shutdown(a, SHUT_WR))
		return pr_perror("write + shutdown");
	if (sk_fill(b, 2, 0, 700) != 700)
		return pr_perror("write back");
	if (shutdown(c, SHUT_RD) || sk_fill(d, 3, 0, 300) != 300)
		return pr_perror("SHUT_RD");
	usleep(100000);
	if (sk_tcp_state(a) != TCP_FIN_WAIT2 || sk_tcp_state(b) != TCP_CLOSE_WAIT) {
		pr_err("states %d %d before C/R\n", sk_tcp_state(a), sk_tcp_state(b));
		return 1;
	}

	test_daemon();
	test_waitsig();

	usleep(100000);
	if (sk_tcp_state(a) != TCP_FIN_WAIT2 || sk_tcp_state(b) != TCP_CLOSE_WAIT ||
	    sk_tcp_state(c) != TCP_ESTABLISHED) {
		fail("states %d %d %d after C/R", sk_tcp_state(a), sk_tcp_state(b), sk_tcp_state(c));
		return 1;
	}
	if (sk_expect(b, 1, 0, 2000) || !sk_eof(b)) {
		fail("b: 2000 bytes then end-of-file");
		return 1;
	}
	if (sk_expect(a, 2, 0, 700) || sk_fill(b, 4, 0, 100) != 100 || sk_expect(a, 4, 0, 100)) {
		fail("a still receives");
		return 1;
	}
	if (send(a, "x", 1, MSG_NOSIGNAL) != -1 || errno != EPIPE) {
		fail("a can write after its shutdown");
		return 1;
	}
	if (sk_expect(c, 3, 0, 300) || sk_roundtrip(c, d, 5)) {
		fail("the SHUT_RD connection");
		return 1;
	}
	pass();
	return 0;
}
