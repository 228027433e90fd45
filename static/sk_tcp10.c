#include "sk_inet.h"

const char *test_doc = "A TCP listener with a connection in its accept queue (its client closed since): the dump "
		       "is refused without --skip-in-flight and the tree goes on untouched";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int l, c, s;
	union sk_addr a;

	test_init(argc, argv);

	l = sk_listener(AF_INET, "127.0.0.1", 0, 4, 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || c < 0 || sk_name(l, &a, 0) || connect(c, &a.sa, sizeof(a.v4)))
		return pr_perror("connect");
	close(c);

	test_daemon();
	test_waitsig();

	set_nonblock(l, 1);
	s = accept(l, NULL, NULL);
	if (s < 0) {
		fail("the pending connection is gone: %m");
		return 1;
	}
	pass();
	return 0;
}
