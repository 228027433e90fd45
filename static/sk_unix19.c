#include "sk_unix.h"

const char *test_doc = "Named ends without their listener: a datagram pair both bound (abstract) and connected "
		       "to each other, and an accepted stream connection whose listener was closed (its name "
		       "free again): after C/R the names and peers are the same and data goes both ways";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int a, b, lsk, csk, ask;
	char na[64], nb[64], nl[64];

	test_init(argc, argv);

	snprintf(na, sizeof(na), "@stasis-sk-unix19-a-%d", getpid());
	snprintf(nb, sizeof(nb), "@stasis-sk-unix19-b-%d", getpid());
	snprintf(nl, sizeof(nl), "@stasis-sk-unix19-l-%d", getpid());
	a = socket(AF_UNIX, SOCK_DGRAM, 0);
	b = socket(AF_UNIX, SOCK_DGRAM, 0);
	lsk = socket(AF_UNIX, SOCK_STREAM, 0);
	csk = socket(AF_UNIX, SOCK_STREAM, 0);
	if (a < 0 || b < 0 || lsk < 0 || csk < 0 || sk_bind(a, na) || sk_bind(b, nb) || sk_connect(a, nb) ||
	    sk_connect(b, na) || sk_bind(lsk, nl) || listen(lsk, 1) || sk_connect(csk, nl) ||
	    (ask = accept(lsk, NULL, NULL)) < 0) {
		pr_perror("sockets");
		return 1;
	}
	close(lsk);
	if (sk_send(a, 1, 0, 10) || sk_send(b, 2, 0, 20) || sk_send(csk, 3, 0, 30) || sk_send(ask, 4, 0, 40)) {
		pr_perror("send");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (sk_check_name(a, 0, na) || sk_check_name(a, 1, nb) || sk_check_name(b, 0, nb) || sk_check_name(b, 1, na) ||
	    sk_check_name(ask, 0, nl) || sk_check_name(csk, 1, nl) || sk_check_name(csk, 0, "")) {
		fail("names after C/R");
		return 1;
	}
	if (sk_recv_msg(b, 1, 0, 10, MSG_DONTWAIT) || sk_recv_msg(a, 2, 0, 20, MSG_DONTWAIT) ||
	    sk_recv_stream(ask, 3, 0, 30) || sk_recv_stream(csk, 4, 0, 40)) {
		fail("data after C/R");
		return 1;
	}
	if (sk_send(a, 5, 0, 1) || sk_recv_msg(b, 5, 0, 1, 0) || sk_send(ask, 6, 0, 1) || sk_recv_stream(csk, 6, 0, 1)) {
		fail("new data after C/R");
		return 1;
	}
	pass();
	return 0;
}
