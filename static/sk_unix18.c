#include "sk_unix.h"

const char *test_doc = "A unix stream listener with a connection not yet accepted, the client having written "
		       "into it: the dump is refused (the data is only in the embryo socket, which cannot be read "
		       "without accepting it), and after the refusal the connection is accepted with its data";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int lsk, csk, a;
	char name[64];

	test_init(argc, argv);

	snprintf(name, sizeof(name), "@stasis-sk-unix18-%d", getpid());
	lsk = socket(AF_UNIX, SOCK_STREAM, 0);
	csk = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lsk < 0 || csk < 0 || sk_bind(lsk, name) || listen(lsk, 4) || sk_connect(csk, name) ||
	    sk_send(csk, 1, 0, 100)) {
		pr_perror("sockets");
		return 1;
	}

	test_daemon();
	test_waitsig();

	a = accept(lsk, NULL, NULL);
	if (a < 0 || sk_recv_stream(a, 1, 0, 100) || sk_send(a, 2, 0, 5) || sk_recv_stream(csk, 2, 0, 5)) {
		fail("the pending connection after the refused dump");
		return 1;
	}
	pass();
	return 0;
}
