#include "sk_unix_ext.h"

const char *test_doc = "A unix stream socket whose peer is held by a process outside the dumped tree: the dump "
		       "is refused (criu refuses external stream peers even with --ext-unix-sk) and the "
		       "connection still works after the refusal";
const char *test_author = "Stasis developers";

static int sk[2], ready[2], hold[2];

static int outsider(void *arg)
{
	char buf[16];
	ssize_t n;

	close(sk[0]);
	close(hold[1]);
	if (write(ready[1], "r", 1) != 1)
		return 1;
	/* echo until the tree closes its end */
	while ((n = recv(sk[1], buf, sizeof(buf), 0)) > 0)
		if (send(sk[1], buf, n, MSG_NOSIGNAL) != n)
			return 2;
	return 0;
}

int main(int argc, char **argv)
{
	char buf[4];

	test_init(argc, argv);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sk) || pipe(ready) || pipe(hold)) {
		pr_perror("socketpair");
		return 1;
	}
	if (sk_outsider(outsider, NULL, ready[0], ready[1])) {
		pr_perror("outsider");
		return 1;
	}
	close(sk[1]);

	test_daemon();
	test_waitsig();

	if (send(sk[0], "abc", 3, 0) != 3 || recv(sk[0], buf, 3, MSG_WAITALL) != 3 || memcmp(buf, "abc", 3)) {
		fail("the connection to the outsider does not work");
		return 1;
	}
	close(sk[0]);
	pass();
	return 0;
}
