#include "sk_unix.h"

const char *test_doc = "Bound sockets in flight (SCM_RIGHTS, as in socket activation): a stream listener bound "
		       "to an abstract name with a connection accepted from it, and a datagram receiver bound "
		       "to a path with a datagram queued, both closed by their sender: after C/R they arrive "
		       "with their names, the receiver has its datagram, the listener accepts new clients and "
		       "the accepted connection still works";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "socket file name", 1);

int main(int argc, char **argv)
{
	int sk[2], lsk, rcv, c, a, fds[2] = { -1, -1 }, got;
	char name[64], cbuf[CMSG_SPACE(2 * sizeof(int))], b;
	struct iovec iov = { "L", 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;

	test_init(argc, argv);

	snprintf(name, sizeof(name), "@stasis-sk-unix25-%d", getpid());
	unlink(filename);
	lsk = socket(AF_UNIX, SOCK_STREAM, 0);
	rcv = socket(AF_UNIX, SOCK_DGRAM, 0);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lsk < 0 || rcv < 0 || c < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sk) || sk_bind(lsk, name) ||
	    listen(lsk, 4) || sk_connect(c, name) || (a = accept(lsk, NULL, NULL)) < 0 || sk_bind(rcv, filename)) {
		pr_perror("sockets");
		return 1;
	}
	{
		int s = socket(AF_UNIX, SOCK_DGRAM, 0);

		if (s < 0 || sk_connect(s, filename) || sk_send(s, 1, 0, 33)) {
			pr_perror("datagram");
			return 1;
		}
		close(s);
	}
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(cm), (int[]){ lsk, rcv }, 2 * sizeof(int));
	if (sendmsg(sk[0], &mh, 0) != 1) {
		pr_perror("sendmsg");
		return 1;
	}
	close(lsk);
	close(rcv);

	test_daemon();
	test_waitsig();

	iov.iov_base = &b;
	mh.msg_controllen = sizeof(cbuf);
	if (recvmsg(sk[1], &mh, MSG_DONTWAIT) != 1 || b != 'L') {
		fail("the message with the sockets after C/R");
		return 1;
	}
	cm = CMSG_FIRSTHDR(&mh);
	got = cm && cm->cmsg_type == SCM_RIGHTS ? (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int) : 0;
	if (got != 2) {
		fail("%d fds came with the message, expected 2", got);
		return 1;
	}
	memcpy(fds, CMSG_DATA(cm), 2 * sizeof(int));
	if (sk_check_name(fds[0], 0, name) || sk_check_name(fds[1], 0, filename) || sk_check_name(a, 0, name)) {
		fail("names of the sockets that were in flight");
		return 1;
	}
	if (sk_recv_msg(fds[1], 1, 0, 33, MSG_DONTWAIT)) {
		fail("the receiver's datagram");
		return 1;
	}
	{
		int c2 = socket(AF_UNIX, SOCK_STREAM, 0), a2;

		if (c2 < 0 || sk_connect(c2, name) || (a2 = accept(fds[0], NULL, NULL)) < 0 || sk_send(c2, 2, 0, 4) ||
		    sk_recv_stream(a2, 2, 0, 4)) {
			fail("the listener that was in flight does not accept");
			return 1;
		}
	}
	if (sk_send(a, 3, 0, 5) || sk_recv_stream(c, 3, 0, 5)) {
		fail("the accepted connection");
		return 1;
	}
	unlink(filename);
	pass();
	return 0;
}
