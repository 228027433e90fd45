#include <signal.h>

#include "sk_unix.h"

const char *test_doc = "Shutdown states of unix stream and seqpacket pairs: SHUT_WR on one end (with data still "
		       "queued for the other), SHUT_RD on one end, SHUT_RDWR on one end, and a datagram pair with "
		       "SHUT_WR: after C/R reads give the queued data then EOF where they did, sends fail with "
		       "EPIPE where they did and work where they did";
const char *test_author = "Stasis developers";

static int want_eof(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

	if (n != 0) {
		pr_err("fd %d: recv %zd (%s), expected EOF\n", fd, n, n < 0 ? strerror(errno) : "data");
		return -1;
	}
	return 0;
}

static int want_epipe(int fd)
{
	ssize_t n = send(fd, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n != -1 || errno != EPIPE) {
		pr_err("fd %d: send %zd (%s), expected EPIPE\n", fd, n, n < 0 ? strerror(errno) : "sent");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int wr[2], rd[2], both[2], sq[2], dg[2];

	test_init(argc, argv);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, wr) || socketpair(AF_UNIX, SOCK_STREAM, 0, rd) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, both) || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sq) ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, dg)) {
		pr_perror("socketpair");
		return 1;
	}
	/* wr: 0 writes data then SHUT_WR; 1 can still write to 0 */
	if (sk_send(wr[0], 1, 0, 500) || shutdown(wr[0], SHUT_WR)) {
		pr_perror("wr");
		return 1;
	}
	/* rd: 1 shuts its reading side; data queued for 0 */
	if (sk_send(rd[1], 2, 0, 50) || shutdown(rd[1], SHUT_RD)) {
		pr_perror("rd");
		return 1;
	}
	/* both: 1 shuts both with data queued for it (still readable) */
	if (sk_send(both[0], 3, 0, 70) || shutdown(both[1], SHUT_RDWR)) {
		pr_perror("both");
		return 1;
	}
	/* seqpacket: SHUT_WR with two messages queued */
	if (sk_send(sq[1], 4, 0, 10) || sk_send(sq[1], 4, 10, 20) || shutdown(sq[1], SHUT_WR)) {
		pr_perror("sq");
		return 1;
	}
	if (sk_send(dg[0], 5, 0, 33) || shutdown(dg[0], SHUT_WR)) {
		pr_perror("dg");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (sk_recv_stream(wr[1], 1, 0, 500) || want_eof(wr[1]) || want_epipe(wr[0]) || sk_send(wr[1], 6, 0, 5) ||
	    sk_recv_stream(wr[0], 6, 0, 5)) {
		fail("SHUT_WR pair after C/R");
		return 1;
	}
	if (sk_recv_stream(rd[0], 2, 0, 50) || want_epipe(rd[0]) || want_eof(rd[1]) || sk_send(rd[1], 7, 0, 5) ||
	    sk_recv_stream(rd[0], 7, 0, 5)) {
		fail("SHUT_RD pair after C/R");
		return 1;
	}
	if (sk_recv_stream(both[1], 3, 0, 70) || want_eof(both[1]) || want_eof(both[0]) || want_epipe(both[1]) ||
	    want_epipe(both[0])) {
		fail("SHUT_RDWR pair after C/R");
		return 1;
	}
	if (sk_recv_msg(sq[0], 4, 0, 10, 0) || sk_recv_msg(sq[0], 4, 10, 20, 0) || want_eof(sq[0]) ||
	    want_epipe(sq[1]) || sk_send(sq[0], 8, 0, 3) || sk_recv_msg(sq[1], 8, 0, 3, 0)) {
		fail("seqpacket SHUT_WR pair after C/R");
		return 1;
	}
	if (sk_recv_msg(dg[1], 5, 0, 33, MSG_DONTWAIT) || want_epipe(dg[0]) || sk_send(dg[1], 9, 0, 3) ||
	    sk_recv_msg(dg[0], 9, 0, 3, MSG_DONTWAIT)) {
		fail("datagram SHUT_WR pair after C/R");
		return 1;
	}
	pass();
	return 0;
}
