#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "Unix stream and datagram pairs whose writing end was closed with data still queued for the "
		       "other end: after C/R the data is there, then EOF (stream) or nothing (datagram)";
const char *test_author = "Stasis developers";

#define MSG "the writer is gone, its data is not"

int main(int argc, char **argv)
{
	int st[2], dg[2], sp[2];
	char buf[64];

	test_init(argc, argv);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, st) || socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp)) {
		pr_perror("socketpair");
		return 1;
	}
	if (write(st[1], MSG, sizeof(MSG)) != sizeof(MSG) || write(dg[1], MSG, sizeof(MSG)) != sizeof(MSG) ||
	    write(sp[1], MSG, sizeof(MSG)) != sizeof(MSG)) {
		pr_perror("write");
		return 1;
	}
	close(st[1]);
	close(dg[1]);
	close(sp[1]);

	test_daemon();
	test_waitsig();

	memset(buf, 0, sizeof(buf));
	if (read(st[0], buf, sizeof(buf)) != sizeof(MSG) || strcmp(buf, MSG) || read(st[0], buf, sizeof(buf)) != 0) {
		fail("stream: data '%s' or the EOF after it is lost", buf);
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	if (read(sp[0], buf, sizeof(buf)) != sizeof(MSG) || strcmp(buf, MSG) || read(sp[0], buf, sizeof(buf)) != 0) {
		fail("seqpacket: message '%s' or the EOF after it is lost", buf);
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	if (recv(dg[0], buf, sizeof(buf), MSG_DONTWAIT) != sizeof(MSG) || strcmp(buf, MSG)) {
		fail("dgram: datagram '%s' lost", buf);
		return 1;
	}
	if (recv(dg[0], buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN) {
		fail("dgram: more than sent");
		return 1;
	}
	pass();
	return 0;
}
