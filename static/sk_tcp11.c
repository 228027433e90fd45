#include <sys/stat.h>

#include "sk_inet.h"

const char *test_doc = "A TCP listener with a connection in its accept queue, dumped with --skip-in-flight: the "
		       "pending connection is forgotten, the listener keeps its name and backlog and accepts new "
		       "connections after C/R";
const char *test_author = "Stasis developers";

/* C/R gives the socket a new inode: without it (--nocr) the pending connection is still there */
static ino_t ino_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

int main(int argc, char **argv)
{
	int l, c, s;
	union sk_addr a;
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	ino_t ino;

	test_init(argc, argv);

	l = sk_listener(AF_INET, "127.0.0.1", 0, 6, 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || c < 0 || sk_name(l, &a, 0) || connect(c, &a.sa, sizeof(a.v4)))
		return pr_perror("connect");
	close(c);
	ino = ino_of(l);

	test_daemon();
	test_waitsig();

	if (sk_same_name(l, &a, 0) || getsockopt(l, IPPROTO_TCP, TCP_INFO, &ti, &len) || ti.tcpi_sacked != 6) {
		fail("listener name or backlog changed");
		return 1;
	}
	set_nonblock(l, 1);
	s = accept(l, NULL, NULL);
	if (s >= 0 && ino_of(l) != ino) {
		fail("a forgotten connection was accepted after C/R");
		return 1;
	}
	if (s < 0 && (errno != EAGAIN || ino_of(l) == ino)) {
		fail("the pending connection is gone without C/R, or accept failed: %m");
		return 1;
	}
	if (s >= 0 && !sk_eof(s)) {
		fail("the pending connection (its client closed) does not read end-of-file");
		return 1;
	}
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, &a.sa, sizeof(a.v4))) {
		fail("connect after C/R: %m");
		return 1;
	}
	usleep(50000);
	s = accept(l, NULL, NULL);
	if (s < 0 || sk_roundtrip(c, s, 3)) {
		fail("new connection after C/R");
		return 1;
	}
	pass();
	return 0;
}
