#include <sys/stat.h>

#include "sk_unix.h"

const char *test_doc = "Unix sockets bound to paths that were unlinked since: a stream listener with a client and "
		       "the accepted connection, and a datagram receiver with a connected sender and a queued "
		       "datagram; one path is taken again by a new socket. After C/R the names are the same, "
		       "the unlinked paths do not exist again (the other leads to the new socket), and both "
		       "connections work";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "socket file name", 1);

int main(int argc, char **argv)
{
	char lpath[256], rpath[256];
	int lsk, csk, ask, rcv, snd, again;
	struct stat st0, st1;

	test_init(argc, argv);

	snprintf(lpath, sizeof(lpath), "%s.l", filename);
	snprintf(rpath, sizeof(rpath), "%s.r", filename);
	unlink(lpath);
	unlink(rpath);
	lsk = socket(AF_UNIX, SOCK_STREAM, 0);
	csk = socket(AF_UNIX, SOCK_STREAM, 0);
	rcv = socket(AF_UNIX, SOCK_DGRAM, 0);
	snd = socket(AF_UNIX, SOCK_DGRAM, 0);
	again = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (lsk < 0 || csk < 0 || rcv < 0 || snd < 0 || again < 0 || sk_bind(lsk, lpath) || listen(lsk, 4) ||
	    sk_connect(csk, lpath) || (ask = accept(lsk, NULL, NULL)) < 0 || sk_bind(rcv, rpath) ||
	    sk_connect(snd, rpath)) {
		pr_perror("sockets");
		return 1;
	}
	if (sk_send(snd, 1, 0, 20) || sk_send(csk, 2, 0, 20)) {
		pr_perror("send");
		return 1;
	}
	if (unlink(lpath) || unlink(rpath) || sk_bind(again, rpath) || stat(rpath, &st0)) {
		pr_perror("unlink/bind again");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (access(lpath, F_OK) == 0 || errno != ENOENT) {
		fail("%s exists again after C/R", lpath);
		return 1;
	}
	/* the path leads to the new socket (its file is a new one after C/R: compare by use, not inode) */
	if (stat(rpath, &st1) || !S_ISSOCK(st1.st_mode) || st1.st_mode != st0.st_mode) {
		fail("%s is not a socket file with its mode after C/R", rpath);
		return 1;
	}
	{
		int probe = socket(AF_UNIX, SOCK_DGRAM, 0);

		if (probe < 0 || sk_connect(probe, rpath)) {
			fail("cannot connect to %s", rpath);
			return 1;
		}
		if (sk_send(probe, 5, 0, 4) || sk_recv_msg(again, 5, 0, 4, MSG_DONTWAIT)) {
			fail("%s does not lead to the socket bound there last", rpath);
			return 1;
		}
		close(probe);
	}
	if (sk_check_name(lsk, 0, lpath) || sk_check_name(ask, 0, lpath) || sk_check_name(csk, 1, lpath) ||
	    sk_check_name(rcv, 0, rpath) || sk_check_name(snd, 1, rpath) || sk_check_name(again, 0, rpath)) {
		fail("names after C/R");
		return 1;
	}
	if (sk_recv_msg(rcv, 1, 0, 20, MSG_DONTWAIT) || sk_empty(rcv) || sk_recv_stream(ask, 2, 0, 20)) {
		fail("queued data after C/R");
		return 1;
	}
	if (sk_send(snd, 3, 0, 7) || sk_recv_msg(rcv, 3, 0, 7, 0) || sk_send(ask, 4, 0, 7) ||
	    sk_recv_stream(csk, 4, 0, 7)) {
		fail("the connections do not work after C/R");
		return 1;
	}
	unlink(rpath);
	pass();
	return 0;
}
