#include <sys/ioctl.h>
#include <sys/socket.h>

#include "zdtmtst.h"

const char *test_doc = "Queues of unix sockets over C/R: a stream pair with several writes queued (read back as one "
		       "stream), a datagram and a seqpacket pair whose message boundaries must stay";
const char *test_author = "Stasis developers";

static const char *msgs[] = { "one", "second message", "3", "the fourth and last message" };

static int check_msgs(int sk, const char *what)
{
	char buf[64];
	unsigned i;
	int n;

	for (i = 0; i < ARRAY_SIZE(msgs); i++) {
		memset(buf, 0, sizeof(buf));
		n = recv(sk, buf, sizeof(buf), MSG_DONTWAIT);
		if (n != (int)strlen(msgs[i]) || memcmp(buf, msgs[i], n)) {
			fail("%s: message %u is '%s' (%d bytes), expected '%s'", what, i, buf, n, msgs[i]);
			return 1;
		}
	}
	if (recv(sk, buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN) {
		fail("%s: more messages than sent", what);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int st[2], dg[2], sp[2];
	char want[256] = "", buf[256];
	unsigned i;
	int len;

	test_init(argc, argv);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, st) || socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp)) {
		pr_perror("socketpair");
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(msgs); i++) {
		len = strlen(msgs[i]);
		if (write(st[0], msgs[i], len) != len || write(dg[0], msgs[i], len) != len ||
		    write(sp[1], msgs[i], len) != len) {
			pr_perror("write");
			return 1;
		}
		strcat(want, msgs[i]);
	}

	test_daemon();
	test_waitsig();

	len = strlen(want);
	memset(buf, 0, sizeof(buf));
	if (read_data(st[1], (unsigned char *)buf, len) || strcmp(buf, want)) {
		fail("stream: read '%s', expected '%s'", buf, want);
		return 1;
	}
	if (recv(st[1], buf, 1, MSG_DONTWAIT) != -1 || errno != EAGAIN) {
		fail("stream: more data than sent");
		return 1;
	}
	if (check_msgs(dg[1], "dgram") || check_msgs(sp[0], "seqpacket"))
		return 1;
	pass();
	return 0;
}
