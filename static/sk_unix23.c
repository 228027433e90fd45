#include "sk_unix.h"

const char *test_doc = "Datagram sockets connected to receivers that were closed since: an abstract-named one, a "
		       "path-named one (its file stays), and a socketpair's end whose other end sent data and "
		       "closed: after C/R getpeername still names the dead peer, the queued data is there, and "
		       "the next send fails with ECONNREFUSED (then the socket is disconnected), as before";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "socket file name", 1);

static int refused(int fd)
{
	ssize_t n = send(fd, "x", 1, MSG_DONTWAIT);
	struct sockaddr_un a;
	socklen_t len = sizeof(a);

	if (n != -1 || errno != ECONNREFUSED) {
		pr_err("fd %d: send %zd (%s), expected ECONNREFUSED\n", fd, n, n < 0 ? strerror(errno) : "sent");
		return -1;
	}
	if (getpeername(fd, (struct sockaddr *)&a, &len) == 0 || errno != ENOTCONN) {
		pr_err("fd %d: still connected after ECONNREFUSED\n", fd);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int r1, s1, r2, s2, pr[2];
	char an[64];

	test_init(argc, argv);

	snprintf(an, sizeof(an), "@stasis-sk-unix23-%d", getpid());
	unlink(filename);
	r1 = socket(AF_UNIX, SOCK_DGRAM, 0);
	s1 = socket(AF_UNIX, SOCK_DGRAM, 0);
	r2 = socket(AF_UNIX, SOCK_DGRAM, 0);
	s2 = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (r1 < 0 || s1 < 0 || r2 < 0 || s2 < 0 || sk_bind(r1, an) || sk_connect(s1, an) || sk_bind(r2, filename) ||
	    sk_connect(s2, filename) || socketpair(AF_UNIX, SOCK_DGRAM, 0, pr)) {
		pr_perror("sockets");
		return 1;
	}
	if (sk_send(pr[1], 1, 0, 44) || sk_send(pr[1], 1, 44, 4)) {
		pr_perror("send");
		return 1;
	}
	close(r1);
	close(r2);
	close(pr[1]);

	test_daemon();
	test_waitsig();

	if (sk_check_name(s1, 1, an) || sk_check_name(s2, 1, filename) || sk_check_name(pr[0], 1, "")) {
		fail("the dead peers' names after C/R");
		return 1;
	}
	if (sk_recv_msg(pr[0], 1, 0, 44, MSG_DONTWAIT) || sk_recv_msg(pr[0], 1, 44, 4, MSG_DONTWAIT) || sk_empty(pr[0])) {
		fail("the data of the closed end after C/R");
		return 1;
	}
	if (refused(s1) || refused(s2) || refused(pr[0])) {
		fail("sends to the dead peers after C/R");
		return 1;
	}
	if (access(filename, F_OK)) {
		fail("the closed receiver's file is gone after C/R");
		return 1;
	}
	unlink(filename);
	pass();
	return 0;
}
