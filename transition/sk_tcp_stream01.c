#include "../static/sk_inet.h"

const char *test_doc = "One process keeps both ends of an IPv6 TCP connection busy in both directions "
		       "(non-blocking, small buffers) while being dumped: every byte read is checked, and both "
		       "streams go on after C/R";
const char *test_author = "Stasis developers";

#define CHUNK 8192
#define AFTER (2L << 20)

struct end {
	int fd, out, in;
	long woff, roff;
};

static int step(struct end *e)
{
	uint8_t buf[CHUNK];
	long w, i;
	ssize_t n;

	w = sk_fill(e->fd, e->out, e->woff, CHUNK);
	if (w < 0)
		return -1;
	e->woff += w;
	n = recv(e->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n == 0)
		return -1;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	for (i = 0; i < n; i++)
		if (buf[i] != sk_pat(e->in, e->roff + i)) {
			pr_err("stream %d: byte %ld is %#x, expected %#x\n", e->in, e->roff + i, buf[i],
			       sk_pat(e->in, e->roff + i));
			return -1;
		}
	e->roff += n;
	return 0;
}

int main(int argc, char **argv)
{
	struct end x = { .out = 1, .in = 2 }, y = { .out = 2, .in = 1 };
	long before = -1;

	test_init(argc, argv);

	if (sk_pair(AF_INET6, "::1", &x.fd, &y.fd))
		return pr_perror("pair");
	if (sk_setint(x.fd, SOL_SOCKET, SO_SNDBUF, 32768) || sk_setint(y.fd, SOL_SOCKET, SO_SNDBUF, 32768))
		return pr_perror("buffers");

	test_daemon();
	for (;;) {
		if (step(&x) || step(&y)) {
			fail("the streams broke: x read %ld wrote %ld, y read %ld wrote %ld", x.roff, x.woff, y.roff,
			     y.woff);
			return 1;
		}
		if (!test_go() && before < 0)
			before = x.roff + y.roff;
		if (before >= 0 && x.roff + y.roff > before + AFTER)
			break;
	}
	test_waitsig();
	test_msg("x read %ld wrote %ld, y read %ld wrote %ld\n", x.roff, x.woff, y.roff, y.woff);
	pass();
	return 0;
}
