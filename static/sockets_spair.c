#include <sys/ioctl.h>
#include <sys/socket.h>

#include "zdtmtst.h"

const char *test_doc = "A unix stream socketpair with data queued in both directions over C/R, one end shut down "
		       "for writing";
const char *test_author = "Stasis developers";

#define MSG_A "from end zero to end one"
#define MSG_B "and back from one to zero, longer"

int main(int argc, char **argv)
{
	char buf[128];
	int sk[2], avail;

	test_init(argc, argv);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sk)) {
		pr_perror("socketpair");
		return 1;
	}
	if (write(sk[0], MSG_A, sizeof(MSG_A)) != sizeof(MSG_A) ||
	    write(sk[1], MSG_B, sizeof(MSG_B)) != sizeof(MSG_B)) {
		pr_perror("write");
		return 1;
	}
	if (shutdown(sk[0], SHUT_WR)) {
		pr_perror("shutdown");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (ioctl(sk[1], FIONREAD, &avail) || avail != sizeof(MSG_A)) {
		fail("end one has %d bytes queued, expected %zu", avail, sizeof(MSG_A));
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	if (read(sk[1], buf, sizeof(buf)) != sizeof(MSG_A) || strcmp(buf, MSG_A)) {
		fail("end one read '%s'", buf);
		return 1;
	}
	if (read(sk[1], buf, sizeof(buf)) != 0) {
		fail("no EOF on end one after the peer's shutdown");
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	if (read(sk[0], buf, sizeof(buf)) != sizeof(MSG_B) || strcmp(buf, MSG_B)) {
		fail("end zero read '%s'", buf);
		return 1;
	}
	errno = 0;
	if (send(sk[0], "x", 1, MSG_NOSIGNAL) != -1 || errno != EPIPE) {
		fail("end zero can write after its shutdown");
		return 1;
	}
	if (write(sk[1], "y", 1) != 1 || read(sk[0], buf, 1) != 1 || buf[0] != 'y') {
		fail("end one to zero does not work after C/R");
		return 1;
	}
	pass();
	return 0;
}
