#include <sys/eventfd.h>

#include "sk_unix.h"

const char *test_doc = "An eventfd in flight (SCM_RIGHTS) in a unix socket's queue: a kind the engine cannot "
		       "dump from its own copy, so the dump is refused (naming it) and the tree runs on with the "
		       "message and its fd still queued";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int sk[2], efd, got = -1;
	char cbuf[CMSG_SPACE(sizeof(int))], buf[8];
	struct iovec iov = { "e", 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	uint64_t v;

	test_init(argc, argv);

	efd = eventfd(5, 0);
	if (efd < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sk)) {
		pr_perror("eventfd/socketpair");
		return 1;
	}
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &efd, sizeof(int));
	if (sendmsg(sk[0], &mh, 0) != 1) {
		pr_perror("sendmsg");
		return 1;
	}
	close(efd);

	test_daemon();
	test_waitsig();

	iov.iov_base = buf;
	mh.msg_controllen = sizeof(cbuf);
	if (recvmsg(sk[1], &mh, MSG_DONTWAIT) != 1 || buf[0] != 'e') {
		fail("the message with the eventfd");
		return 1;
	}
	c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(&got, CMSG_DATA(c), sizeof(int));
	if (got < 0 || read(got, &v, sizeof(v)) != sizeof(v) || v != 5) {
		fail("the eventfd in flight");
		return 1;
	}
	pass();
	return 0;
}
