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

const char *test_doc = "A unix datagram socketpair and a seqpacket socketpair between a parent and a child kept "
		       "busy in both directions while being dumped: every message carries a sequence number and "
		       "patterned data of varying size, and each side checks that every message arrives once, in "
		       "order, whole";
const char *test_author = "Stasis developers";

#define STOP 0xffffffffu
#define MAXMSG 6000

struct hdr {
	uint32_t seq;
	uint32_t len;
};

static uint8_t pat(int dir, uint32_t seq, uint32_t i)
{
	return (uint8_t)(dir * 59 + seq * 13 + i * 3);
}

static size_t msg_len(uint32_t seq)
{
	return sizeof(struct hdr) + (seq * 2654435761u) % (MAXMSG - sizeof(struct hdr));
}

/* Sends messages on both sockets while @going() (the child: until the STOPs came), checks what arrives */
static int run(int *fds, int me, int (*going)(void), uint32_t *sent, char *why, size_t wlen)
{
	static uint8_t buf[MAXMSG + 16];
	uint32_t wseq[2] = {}, rseq[2] = {};
	int stopped_in[2] = {}, stopped_out[2] = {}, k;

	while (!stopped_in[0] || !stopped_in[1] || !stopped_out[0] || !stopped_out[1]) {
		struct pollfd p[2];

		for (k = 0; k < 2; k++) {
			p[k].fd = fds[k];
			p[k].events = POLLIN | (stopped_out[k] ? 0 : POLLOUT);
		}
		if (poll(p, 2, 1000) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(why, wlen, "side %d: poll: %s", me, strerror(errno));
			return -1;
		}
		for (k = 0; k < 2; k++) {
			struct hdr *h = (struct hdr *)buf;
			ssize_t n;
			uint32_t i;

			if (!stopped_out[k] && (p[k].revents & POLLOUT)) {
				int stop = !going() || (me && stopped_in[k]);
				size_t len = stop ? sizeof(*h) : msg_len(wseq[k]);

				h->seq = stop ? STOP : wseq[k];
				h->len = len;
				for (i = sizeof(*h); i < len; i++)
					buf[i] = pat(me * 2 + k, wseq[k], i);
				n = send(fds[k], buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
				if (n < 0 && errno != EAGAIN && errno != EINTR) {
					snprintf(why, wlen, "side %d sk %d: send: %s", me, k, strerror(errno));
					return -1;
				}
				if (n >= 0 && (size_t)n != len) {
					snprintf(why, wlen, "side %d sk %d: short send %zd of %zu", me, k, n, len);
					return -1;
				}
				if (n > 0) {
					if (stop)
						stopped_out[k] = 1;
					else
						wseq[k]++;
				}
			}
			if (!stopped_in[k] && (p[k].revents & POLLIN)) {
				n = recv(fds[k], buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
				if (n < 0) {
					if (errno == EAGAIN || errno == EINTR)
						continue;
					snprintf(why, wlen, "side %d sk %d: recv: %s", me, k, strerror(errno));
					return -1;
				}
				if (n < (ssize_t)sizeof(*h) || (size_t)n != h->len) {
					snprintf(why, wlen, "side %d sk %d: message of %zd bytes (header says %u)", me, k, n,
						 n >= (ssize_t)sizeof(*h) ? h->len : 0);
					return -1;
				}
				if (h->seq == STOP) {
					stopped_in[k] = 1;
					continue;
				}
				if (h->seq != rseq[k] || h->len != msg_len(h->seq)) {
					snprintf(why, wlen, "side %d sk %d: message %u (%u bytes), expected %u", me, k, h->seq,
						 h->len, rseq[k]);
					return -1;
				}
				for (i = sizeof(*h); i < h->len; i++)
					if (buf[i] != pat((!me) * 2 + k, h->seq, i)) {
						snprintf(why, wlen, "side %d sk %d: message %u: byte %u is wrong", me, k, h->seq, i);
						return -1;
					}
				rseq[k]++;
			}
		}
	}
	sent[0] = wseq[0];
	sent[1] = wseq[1];
	return 0;
}

static int always(void)
{
	return 1;
}

int main(int argc, char **argv)
{
	int dg[2], sp[2], mine[2], theirs[2], status;
	uint32_t sent[2];
	char why[256];
	pid_t pid;

	test_init(argc, argv);

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp)) {
		pr_perror("socketpair");
		return 1;
	}
	mine[0] = dg[0];
	mine[1] = sp[0];
	theirs[0] = dg[1];
	theirs[1] = sp[1];
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(dg[0]);
		close(sp[0]);
		if (run(theirs, 1, always, sent, why, sizeof(why))) {
			fprintf(stderr, "%s\n", why);
			_exit(1);
		}
		_exit(0);
	}
	close(dg[1]);
	close(sp[1]);

	test_daemon();

	if (run(mine, 0, test_go, sent, why, sizeof(why))) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail("%s", why);
		return 1;
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("child status %#x", status);
		return 1;
	}
	test_msg("parent sent %u datagrams and %u seqpackets\n", sent[0], sent[1]);
	if (!sent[0] || !sent[1]) {
		fail("nothing went through");
		return 1;
	}
	pass();
	return 0;
}
