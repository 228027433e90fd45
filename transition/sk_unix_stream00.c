#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "A unix stream socketpair between a parent and a child kept busy in both directions while "
		       "being dumped: each side writes a patterned byte stream in chunks of varying size and "
		       "checks every byte the other wrote, so no byte is lost, repeated or reordered by C/R";
const char *test_author = "Stasis developers";

static uint8_t pat(int dir, uint64_t off)
{
	return (uint8_t)(dir * 101 + off * 31 + (off >> 11) * 7);
}

/*
 * One side: writes stream @me while @going() says so, then shuts down its writing side; reads and checks
 * the other's stream until EOF. Returns 0 if every byte was right; the byte counts in @sent/@got.
 */
static int run(int fd, int me, int (*going)(void), uint64_t *sent, uint64_t *got, char *why, size_t wlen)
{
	static uint8_t wbuf[65536], rbuf[65536];
	uint64_t w = 0, r = 0;
	int writing = 1, eof = 0;
	unsigned seed = me * 7 + 1;

	while (!eof || writing) {
		struct pollfd p = { .fd = fd, .events = POLLIN | (writing ? POLLOUT : 0) };

		if (writing && (!going() || (me && eof))) { /* the child stops once the parent has */
			if (shutdown(fd, SHUT_WR)) {
				snprintf(why, wlen, "side %d: shutdown: %s", me, strerror(errno));
				return -1;
			}
			writing = 0;
			continue;
		}
		if (poll(&p, 1, 1000) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(why, wlen, "side %d: poll: %s", me, strerror(errno));
			return -1;
		}
		if (writing && (p.revents & POLLOUT)) {
			size_t len = 1 + rand_r(&seed) % sizeof(wbuf), i;
			ssize_t n;

			for (i = 0; i < len; i++)
				wbuf[i] = pat(me, w + i);
			n = send(fd, wbuf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				snprintf(why, wlen, "side %d: send at %llu: %s", me, (unsigned long long)w, strerror(errno));
				return -1;
			}
			if (n > 0)
				w += n;
		}
		if (p.revents & (POLLIN | POLLHUP)) {
			ssize_t n = recv(fd, rbuf, 1 + rand_r(&seed) % sizeof(rbuf), MSG_DONTWAIT), i;

			if (n == 0) {
				eof = 1;
				continue;
			}
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					continue;
				snprintf(why, wlen, "side %d: recv at %llu: %s", me, (unsigned long long)r, strerror(errno));
				return -1;
			}
			for (i = 0; i < n; i++)
				if (rbuf[i] != pat(!me, r + i)) {
					snprintf(why, wlen, "side %d: byte %llu of the other side's stream is wrong", me,
						 (unsigned long long)(r + i));
					return -1;
				}
			r += n;
		}
	}
	*sent = w;
	*got = r;
	return 0;
}

static int always(void)
{
	return 1;
}

int main(int argc, char **argv)
{
	int sk[2], status, up[2], down[2];
	uint64_t sent, got, other;
	char why[256];
	pid_t pid;

	test_init(argc, argv);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sk) || pipe(up) || pipe(down)) {
		pr_perror("socketpair");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		uint64_t s, g;

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(sk[0]);
		if (run(sk[1], 1, always, &s, &g, why, sizeof(why))) {
			fprintf(stderr, "%s\n", why);
			_exit(1);
		}
		/* the counts: each side checks it got all the other sent */
		if (write(up[1], &s, sizeof(s)) != sizeof(s) || read(down[0], &other, sizeof(other)) != sizeof(other))
			_exit(2);
		_exit(other == g ? 0 : 3);
	}
	close(sk[1]);

	test_daemon();

	if (run(sk[0], 0, test_go, &sent, &got, why, sizeof(why))) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail("%s", why);
		return 1;
	}
	if (write(down[1], &sent, sizeof(sent)) != sizeof(sent) || read(up[0], &other, sizeof(other)) != sizeof(other)) {
		fail("count exchange");
		return 1;
	}
	if (other != got) {
		fail("the child sent %llu bytes, the parent got %llu", (unsigned long long)other,
		     (unsigned long long)got);
		return 1;
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("child status %#x", status);
		return 1;
	}
	test_msg("parent sent %llu bytes, got %llu\n", (unsigned long long)sent, (unsigned long long)got);
	if (!sent || !got) {
		fail("nothing went through");
		return 1;
	}
	pass();
	return 0;
}
