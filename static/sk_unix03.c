#include <sys/stat.h>

#include "sk_unix.h"

const char *test_doc = "A unix stream listener bound to a relative path with a backlog, a client connected to it "
		       "and the accepted connection, data queued both ways: after C/R the names are the same "
		       "(getsockname/getpeername), the data arrives, and the listener accepts a new client";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "socket file name", 1);

int main(int argc, char **argv)
{
	int lsk, csk, ask, c2, a2;
	struct stat st0, st1;

	test_init(argc, argv);

	unlink(filename);
	lsk = socket(AF_UNIX, SOCK_STREAM, 0);
	csk = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lsk < 0 || csk < 0 || sk_bind(lsk, filename) || listen(lsk, 3) || sk_connect(csk, filename)) {
		pr_perror("listener/client");
		return 1;
	}
	ask = accept(lsk, NULL, NULL);
	if (ask < 0) {
		pr_perror("accept");
		return 1;
	}
	if (sk_send(csk, 1, 0, 4000) || sk_send(ask, 2, 0, 10)) {
		pr_perror("send");
		return 1;
	}
	if (stat(filename, &st0)) {
		pr_perror("stat");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (stat(filename, &st1) || !S_ISSOCK(st1.st_mode) || (st1.st_mode & 07777) != (st0.st_mode & 07777)) {
		fail("the socket file after C/R");
		return 1;
	}
	if (sk_check_name(lsk, 0, filename) || sk_check_name(ask, 0, filename) || sk_check_name(csk, 1, filename) ||
	    sk_check_name(csk, 0, "") || sk_check_name(ask, 1, "")) {
		fail("names after C/R");
		return 1;
	}
	if (sk_recv_stream(ask, 1, 0, 4000) || sk_empty(ask) || sk_recv_stream(csk, 2, 0, 10) || sk_empty(csk)) {
		fail("queued data after C/R");
		return 1;
	}
	if (sk_send(ask, 3, 0, 100) || sk_recv_stream(csk, 3, 0, 100) || sk_send(csk, 4, 0, 100) ||
	    sk_recv_stream(ask, 4, 0, 100)) {
		fail("the connection does not carry data both ways");
		return 1;
	}
	c2 = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c2 < 0 || sk_connect(c2, filename)) {
		fail("a new client cannot connect to the listener");
		return 1;
	}
	a2 = accept(lsk, NULL, NULL);
	if (a2 < 0 || sk_send(c2, 5, 0, 5) || sk_recv_stream(a2, 5, 0, 5)) {
		fail("the listener does not accept a new client");
		return 1;
	}
	unlink(filename);
	pass();
	return 0;
}
