#include "sk_unix.h"

const char *test_doc = "Unix stream and seqpacket sockets whose peers were closed with data still queued for "
		       "them: after C/R the data is read, then EOF, and sends fail with EPIPE";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int st[2], sp[2];
	ssize_t n;
	char c;

	test_init(argc, argv);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, st) || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp)) {
		pr_perror("socketpair");
		return 1;
	}
	if (sk_send(st[1], 1, 0, 1234) || sk_send(sp[1], 2, 0, 12) || sk_send(sp[1], 2, 12, 34)) {
		pr_perror("send");
		return 1;
	}
	close(st[1]);
	close(sp[1]);

	test_daemon();
	test_waitsig();

	if (sk_recv_stream(st[0], 1, 0, 1234) || recv(st[0], &c, 1, MSG_DONTWAIT) != 0) {
		fail("stream data then EOF after C/R");
		return 1;
	}
	if (sk_recv_msg(sp[0], 2, 0, 12, MSG_DONTWAIT) || sk_recv_msg(sp[0], 2, 12, 34, MSG_DONTWAIT) ||
	    recv(sp[0], &c, 1, MSG_DONTWAIT) != 0) {
		fail("seqpacket data then EOF after C/R");
		return 1;
	}
	n = send(st[0], "x", 1, MSG_NOSIGNAL);
	if (n != -1 || errno != EPIPE) {
		fail("send to a closed peer: %zd (%s)", n, strerror(errno));
		return 1;
	}
	n = send(sp[0], "x", 1, MSG_NOSIGNAL);
	if (n != -1 || errno != EPIPE) {
		fail("seqpacket send to a closed peer: %zd (%s)", n, strerror(errno));
		return 1;
	}
	pass();
	return 0;
}
