#include "sk_inet.h"

const char *test_doc = "A TCP end shut down for writing while most of what it wrote is still unsent (the peer's "
		       "window is full): FIN_WAIT1 with the FIN behind the data; after C/R the peer reads every "
		       "byte, then end-of-file, and can still write back";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int l, a, b, port;
	union sk_addr la;
	long sent;

	test_init(argc, argv);

	l = sk_listener(AF_INET, "127.0.0.1", 0, 1, 0);
	if (l < 0 || sk_name(l, &la, 0))
		return pr_perror("listener");
	port = sk_port(&la);
	b = socket(AF_INET, SOCK_STREAM, 0);
	if (b < 0 || sk_setint(b, SOL_SOCKET, SO_RCVBUF, 4096))
		return pr_perror("socket");
	sk_addr_set(&la, AF_INET, "127.0.0.1", port);
	if (connect(b, &la.sa, sizeof(la.v4)))
		return pr_perror("connect");
	a = accept(l, NULL, NULL);
	close(l);
	if (a < 0)
		return pr_perror("accept");
	sent = sk_fill(a, 1, 0, 300000);
	if (sent <= 0 || shutdown(a, SHUT_WR))
		return pr_perror("write + shutdown");
	usleep(100000);
	if (sk_tcp_state(a) != TCP_FIN_WAIT1 || sk_ioctl(a, SIOCOUTQNSD) <= 0) {
		pr_err("state %d, unsent %d: not what the test needs\n", sk_tcp_state(a), sk_ioctl(a, SIOCOUTQNSD));
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (sk_expect(b, 1, 0, sent) || !sk_eof(b)) {
		fail("b: %ld bytes then end-of-file", sent);
		return 1;
	}
	usleep(50000);
	if (sk_tcp_state(a) != TCP_FIN_WAIT2 || sk_tcp_state(b) != TCP_CLOSE_WAIT) {
		fail("states %d %d once everything was read", sk_tcp_state(a), sk_tcp_state(b));
		return 1;
	}
	if (sk_fill(b, 2, 0, 1000) != 1000 || sk_expect(a, 2, 0, 1000)) {
		fail("b cannot write back");
		return 1;
	}
	pass();
	return 0;
}
