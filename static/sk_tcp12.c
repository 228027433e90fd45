#include <signal.h>
#include <sys/stat.h>

#include "sk_inet.h"

const char *test_doc = "Established TCP connections dumped with --tcp-close: after C/R both ends are closed "
		       "(reads see end-of-file, writes EPIPE), bound where they were, and a listener on the same "
		       "port still accepts";
const char *test_author = "Stasis developers";

/* C/R gives the socket a new inode: without it (--nocr) the connection must simply be as it was */
static ino_t ino_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

int main(int argc, char **argv)
{
	int l, a, b, s;
	union sk_addr la, an;
	char c;
	ino_t ino;

	test_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);

	l = sk_listener(AF_INET, "127.0.0.1", 0, 4, 0);
	b = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || b < 0 || sk_name(l, &la, 0) || connect(b, &la.sa, sizeof(la.v4)))
		return pr_perror("connect");
	a = accept(l, NULL, NULL);
	if (a < 0 || sk_name(a, &an, 0) || sk_fill(a, 1, 0, 100) != 100)
		return pr_perror("accept");
	ino = ino_of(a);

	test_daemon();
	test_waitsig();

	if (ino_of(a) == ino) {
		if (sk_expect(b, 1, 0, 100) || sk_roundtrip(a, b, 2)) {
			fail("the connection without C/R");
			return 1;
		}
		pass();
		return 0;
	}

	if (recv(a, &c, 1, MSG_DONTWAIT) != 0 || recv(b, &c, 1, MSG_DONTWAIT) != 0) {
		fail("a closed connection can still be read: %m");
		return 1;
	}
	if (send(a, "x", 1, 0) != -1 || errno != EPIPE || send(b, "x", 1, 0) != -1 || errno != EPIPE) {
		fail("a closed connection can still be written");
		return 1;
	}
	if (sk_same_name(a, &an, 0)) {
		fail("the closed socket is not bound where it was");
		return 1;
	}
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, &la.sa, sizeof(la.v4)) || accept(l, NULL, NULL) < 0) {
		fail("the listener does not accept after C/R: %m");
		return 1;
	}
	pass();
	return 0;
}
