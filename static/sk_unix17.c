#include <sys/stat.h>

#include "sk_unix.h"

const char *test_doc = "File descriptors in flight (SCM_RIGHTS): a stream queue \"AAA\", \"BBB\"+(pipe read end, "
		       "regular file), \"CCC\", and a datagram carrying a unix socket that exists only in the "
		       "queue, with data queued in it: after C/R a read gives \"AAABBB\" with the fds (as the "
		       "kernel hands them out), then \"CCC\"; the pipe end reads what its pipe holds, the file keeps its "
		       "offset, the socket in flight has its data and its peer";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

static int send_fds(int sk, const char *data, size_t len, int *fds, int nfds)
{
	char cbuf[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = { (void *)data, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (nfds) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	return sendmsg(sk, &mh, 0) == (ssize_t)len ? 0 : -1;
}

/* @len bytes equal to @want, with exactly @nfds fds (in @fds) */
static int recv_fds(int sk, size_t size, const char *want, size_t len, int *fds, int nfds)
{
	char buf[64], cbuf[CMSG_SPACE(8 * sizeof(int))];
	struct iovec iov = { buf, size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(sk, &mh, MSG_DONTWAIT);
	int got = 0;

	if (n != (ssize_t)len || memcmp(buf, want, len)) {
		pr_err("recv %zd bytes, expected \"%.*s\"\n", n, (int)len, want);
		return -1;
	}
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			got = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			if (got <= nfds)
				memcpy(fds, CMSG_DATA(c), got * sizeof(int));
		}
	if (got != nfds) {
		pr_err("\"%.*s\" came with %d fds, expected %d\n", (int)len, want, got, nfds);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int st[2], dg[2], pp[2], inner[2], fd, fds[4];
	char buf[32];

	test_init(argc, argv);

	fd = open(filename, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "0123456789", 10) != 10 || lseek(fd, 4, SEEK_SET) != 4) {
		pr_perror("file");
		return 1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, st) || socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) || pipe(pp) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, inner)) {
		pr_perror("socketpair/pipe");
		return 1;
	}
	if (write(pp[1], "piped", 5) != 5) {
		pr_perror("pipe write");
		return 1;
	}
	fds[0] = pp[0];
	fds[1] = fd;
	if (send_fds(st[0], "AAA", 3, NULL, 0) || send_fds(st[0], "BBB", 3, fds, 2) || send_fds(st[0], "CCC", 3, NULL, 0)) {
		pr_perror("send stream");
		return 1;
	}
	/* inner[1] only in flight, with data queued in it */
	if (sk_send(inner[0], 1, 0, 1000) || send_fds(dg[0], "sock", 4, &inner[1], 1)) {
		pr_perror("send dgram");
		return 1;
	}
	close(pp[0]);
	close(fd);
	close(inner[1]);

	test_daemon();
	test_waitsig();

	/* a read hands out the data up to the fds and the fds, then the rest */
	if (recv_fds(st[1], 32, "AAABBB", 6, fds, 2) || recv_fds(st[1], 32, "CCC", 3, fds, 0)) {
		fail("stream messages with fds after C/R");
		return 1;
	}
	if (read(fds[0], buf, sizeof(buf)) != 5 || memcmp(buf, "piped", 5) || write(pp[1], "x", 1) != 1 ||
	    read(fds[0], buf, 1) != 1) {
		fail("the pipe end in flight");
		return 1;
	}
	if (lseek(fds[1], 0, SEEK_CUR) != 4 || read(fds[1], buf, 6) != 6 || memcmp(buf, "456789", 6)) {
		fail("the file in flight");
		return 1;
	}
	if (recv_fds(dg[1], 32, "sock", 4, fds + 2, 1)) {
		fail("the datagram with a socket after C/R");
		return 1;
	}
	if (sk_recv_stream(fds[2], 1, 0, 1000) || sk_send(fds[2], 2, 0, 10) || sk_recv_stream(inner[0], 2, 0, 10)) {
		fail("the socket that was in flight");
		return 1;
	}
	unlink(filename);
	pass();
	return 0;
}
