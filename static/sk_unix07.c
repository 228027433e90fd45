#include <sys/time.h>

#include "sk_unix.h"

const char *test_doc = "Options of unix sockets read back after C/R: SO_PASSCRED, SO_SNDBUF/SO_RCVBUF, "
		       "SO_SNDTIMEO/SO_RCVTIMEO, SO_RCVLOWAT, SO_PRIORITY, and SO_PEEK_OFF with part of the queue "
		       "already peeked (the next peek continues where it was; a read still starts at the head)";
const char *test_author = "Stasis developers";

static int opt(int fd, int name)
{
	int v = -12345;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, name, &v, &len))
		return -12345;
	return v;
}

static int tmo(int fd, int name, long sec, long usec)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);

	if (getsockopt(fd, SOL_SOCKET, name, &tv, &len))
		return -1;
	return tv.tv_sec == sec && tv.tv_usec == usec ? 0 : -1;
}

int main(int argc, char **argv)
{
	int sk[2], dg[2], one = 1, v;
	int snd, rcv;
	struct timeval tv = { 3, 500000 }, tv2 = { 7, 0 };
	uint8_t buf[100];

	test_init(argc, argv);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sk) || socketpair(AF_UNIX, SOCK_DGRAM, 0, dg)) {
		pr_perror("socketpair");
		return 1;
	}
	v = 50000;
	if (setsockopt(sk[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ||
	    setsockopt(sk[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) ||
	    setsockopt(sk[1], SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) ||
	    setsockopt(sk[1], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(sk[1], SOL_SOCKET, SO_RCVTIMEO, &tv2, sizeof(tv2))) {
		pr_perror("setsockopt");
		return 1;
	}
	v = 3;
	if (setsockopt(sk[1], SOL_SOCKET, SO_PRIORITY, &v, sizeof(v)) ||
	    setsockopt(sk[1], SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v))) {
		pr_perror("setsockopt");
		return 1;
	}
	snd = opt(sk[0], SO_SNDBUF);
	rcv = opt(sk[1], SO_RCVBUF);
	/* a peek offset: 10 bytes of 30 peeked on the stream, one datagram of three on the pair */
	v = 0;
	if (setsockopt(sk[1], SOL_SOCKET, SO_PEEK_OFF, &v, sizeof(v)) ||
	    setsockopt(dg[1], SOL_SOCKET, SO_PEEK_OFF, &v, sizeof(v))) {
		pr_perror("SO_PEEK_OFF");
		return 1;
	}
	if (sk_send(sk[0], 1, 0, 30) || recv(sk[1], buf, 10, MSG_PEEK) != 10 || sk_send(dg[0], 2, 0, 5) ||
	    sk_send(dg[0], 2, 5, 6) || sk_send(dg[0], 2, 11, 7) || recv(dg[1], buf, 100, MSG_PEEK) != 5) {
		pr_perror("peek");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (opt(sk[0], SO_PASSCRED) != 1 || opt(sk[1], SO_PASSCRED) != 0) {
		fail("SO_PASSCRED after C/R");
		return 1;
	}
	if (opt(sk[0], SO_SNDBUF) != snd || opt(sk[1], SO_RCVBUF) != rcv) {
		fail("buffer sizes after C/R: %d %d, expected %d %d", opt(sk[0], SO_SNDBUF), opt(sk[1], SO_RCVBUF),
		     snd, rcv);
		return 1;
	}
	if (tmo(sk[1], SO_SNDTIMEO, 3, 500000) || tmo(sk[1], SO_RCVTIMEO, 7, 0) || tmo(sk[0], SO_RCVTIMEO, 0, 0)) {
		fail("timeouts after C/R");
		return 1;
	}
	if (opt(sk[1], SO_PRIORITY) != 3 || opt(sk[1], SO_RCVLOWAT) != 3) {
		fail("SO_PRIORITY/SO_RCVLOWAT after C/R");
		return 1;
	}
	if (opt(sk[1], SO_PEEK_OFF) != 10 || opt(dg[1], SO_PEEK_OFF) != 5 || opt(sk[0], SO_PEEK_OFF) != -1) {
		fail("SO_PEEK_OFF after C/R: %d %d %d", opt(sk[1], SO_PEEK_OFF), opt(dg[1], SO_PEEK_OFF),
		     opt(sk[0], SO_PEEK_OFF));
		return 1;
	}
	/* the next peeks go on from the offsets */
	{
		uint8_t want[30];

		sk_fill(want, 1, 0, 30);
		if (recv(sk[1], buf, 5, MSG_PEEK) != 5 || memcmp(buf, want + 10, 5)) {
			fail("stream peek after C/R does not continue at 10");
			return 1;
		}
		sk_fill(want, 2, 5, 6);
		if (recv(dg[1], buf, 100, MSG_PEEK) != 6 || memcmp(buf, want, 6)) {
			fail("datagram peek after C/R does not give the second datagram");
			return 1;
		}
	}
	if (sk_recv_stream(sk[1], 1, 0, 30) || sk_recv_msg(dg[1], 2, 0, 5, 0) || sk_recv_msg(dg[1], 2, 5, 6, 0) ||
	    sk_recv_msg(dg[1], 2, 11, 7, 0)) {
		fail("data after C/R");
		return 1;
	}
	pass();
	return 0;
}
