#include "sk_inet.h"

const char *test_doc = "Two IPv4 TCP listeners sharing one port on 127.0.0.1 with SO_REUSEPORT: after C/R both "
		       "keep the port and the option, and together accept every new connection";
const char *test_author = "Stasis developers";

#define CONNS 16

int main(int argc, char **argv)
{
	int l1, l2, port, i, got = 0, c[CONNS];
	union sk_addr a, n1, n2;

	test_init(argc, argv);

	l1 = socket(AF_INET, SOCK_STREAM, 0);
	l2 = socket(AF_INET, SOCK_STREAM, 0);
	if (l1 < 0 || l2 < 0 || sk_setint(l1, SOL_SOCKET, SO_REUSEPORT, 1) ||
	    sk_setint(l2, SOL_SOCKET, SO_REUSEPORT, 1))
		return pr_perror("sockets");
	sk_addr_set(&a, AF_INET, "127.0.0.1", 0);
	if (bind(l1, &a.sa, sizeof(a.v4)) || sk_name(l1, &n1, 0))
		return pr_perror("bind 1");
	port = sk_port(&n1);
	sk_addr_set(&a, AF_INET, "127.0.0.1", port);
	if (bind(l2, &a.sa, sizeof(a.v4)) || listen(l1, CONNS) || listen(l2, CONNS) || sk_name(l2, &n2, 0))
		return pr_perror("bind 2 / listen");

	test_daemon();
	test_waitsig();

	if (sk_same_name(l1, &n1, 0) || sk_same_name(l2, &n2, 0)) {
		fail("names changed");
		return 1;
	}
	if (sk_getint(l1, SOL_SOCKET, SO_REUSEPORT) != 1 || sk_getint(l2, SOL_SOCKET, SO_REUSEPORT) != 1) {
		fail("SO_REUSEPORT lost");
		return 1;
	}
	for (i = 0; i < CONNS; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (c[i] < 0 || connect(c[i], &a.sa, sizeof(a.v4))) {
			fail("connect %d after C/R: %m", i);
			return 1;
		}
	}
	set_nonblock(l1, 1);
	set_nonblock(l2, 1);
	usleep(100000);
	for (;;) {
		int s = accept(l1, NULL, NULL);

		if (s < 0)
			s = accept(l2, NULL, NULL);
		if (s < 0)
			break;
		got++;
		close(s);
	}
	if (got != CONNS) {
		fail("%d of %d connections accepted", got, CONNS);
		return 1;
	}
	pass();
	return 0;
}
