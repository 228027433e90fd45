#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "../static/sk_inet.h"

const char *test_doc = "Two processes keep an IPv4 TCP connection busy in both directions (non-blocking, small "
		       "send buffers, so the queues are full) while being dumped: every byte each side reads is checked "
		       "against the other's stream, and the streams go on after C/R until both sides close";
const char *test_author = "Stasis developers";

#define CHUNK 16384
#define AFTER (2L << 20)

struct side {
	int fd, out, in;
	long woff, roff;
	int wdone, eof;
};

/* one round of poll + write + read; -1 on a wrong byte or an error */
static int pump(struct side *s)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN | (s->wdone ? 0 : POLLOUT) };
	uint8_t buf[CHUNK];
	ssize_t n;
	long i;

	if (poll(&p, 1, 100) < 0)
		return errno == EINTR ? 0 : -1;
	if (p.revents & POLLOUT) {
		long w = sk_fill(s->fd, s->out, s->woff, CHUNK);

		if (w < 0)
			return -1;
		s->woff += w;
	}
	if (p.revents & (POLLIN | POLLHUP)) {
		n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0) {
			s->eof = 1;
			return 0;
		}
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		for (i = 0; i < n; i++)
			if (buf[i] != sk_pat(s->in, s->roff + i)) {
				pr_err("stream %d: byte %ld is %#x, expected %#x\n", s->in, s->roff + i, buf[i],
				       sk_pat(s->in, s->roff + i));
				return -1;
			}
		s->roff += n;
	}
	return 0;
}

static int child(int fd)
{
	struct side s = { .fd = fd, .out = 2, .in = 1 };

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	while (!s.eof)
		if (pump(&s))
			return 2;
	if (shutdown(fd, SHUT_WR))
		return 3;
	return 0;
}

int main(int argc, char **argv)
{
	int a, b, status;
	struct side s;
	long before = -1;
	pid_t kid;

	test_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);

	if (sk_pair(AF_INET, "127.0.0.1", &a, &b))
		return pr_perror("pair");
	if (sk_setint(a, SOL_SOCKET, SO_SNDBUF, 32768) || sk_setint(b, SOL_SOCKET, SO_SNDBUF, 32768))
		return pr_perror("buffers");
	kid = fork();
	if (kid < 0)
		return pr_perror("fork");
	if (kid == 0) {
		close(a);
		_exit(child(b));
	}
	close(b);
	memset(&s, 0, sizeof(s));
	s.fd = a;
	s.out = 1;
	s.in = 2;

	test_daemon();
	while (!s.eof) {
		if (pump(&s)) {
			fail("parent: the stream broke after %ld bytes read, %ld written", s.roff, s.woff);
			kill(kid, SIGKILL);
			return 1;
		}
		if (!test_go() && before < 0)
			before = s.roff;
		if (before >= 0 && !s.wdone && s.roff > before + AFTER) {
			if (shutdown(a, SHUT_WR))
				return pr_perror("shutdown");
			s.wdone = 1;
		}
	}
	test_waitsig();
	if (waitpid(kid, &status, 0) != kid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child saw a broken stream (status %#x)", status);
		return 1;
	}
	test_msg("read %ld, wrote %ld bytes\n", s.roff, s.woff);
	pass();
	return 0;
}
