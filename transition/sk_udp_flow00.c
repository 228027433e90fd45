#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "UDP traffic in both directions while being dumped: a child streams numbered datagrams to "
		       "its parent (at most WINDOW ahead, so no buffer ever overflows) over a connected socket and "
		       "the parent acknowledges each one, by number, from an unconnected socket; both check every "
		       "datagram's number, contents and sender, so a datagram lost, repeated or reordered across "
		       "C/R (one queued or on its way at the dump moment) fails the test";
const char *test_author = "Stasis developers";

#define WINDOW 32
#define MAGIC 0x75647066
#define TIMEOUT_S 15

enum { DATA = 1, ACK, STOP, FIN };

struct msg {
	uint32_t magic, kind;
	uint64_t seq;
	uint32_t check;
	unsigned char pad[100];
};

static uint32_t seal(const struct msg *m)
{
	return m->magic ^ m->kind * 0x9e3779b1u ^ (uint32_t)m->seq ^ (uint32_t)(m->seq >> 32) ^ m->pad[m->seq % 100];
}

static void fill(struct msg *m, uint32_t kind, uint64_t seq)
{
	int i;

	memset(m, 0, sizeof(*m));
	m->magic = MAGIC;
	m->kind = kind;
	m->seq = seq;
	for (i = 0; i < (int)sizeof(m->pad); i++)
		m->pad[i] = (unsigned char)(seq * 7 + i * 13 + kind);
	m->check = seal(m);
}

static int valid(const struct msg *m, int n)
{
	int i;

	if (n != sizeof(*m) || m->magic != MAGIC || m->check != seal(m))
		return 0;
	for (i = 0; i < (int)sizeof(m->pad); i++)
		if (m->pad[i] != (unsigned char)(m->seq * 7 + i * 13 + m->kind))
			return 0;
	return 1;
}

static int timeouts(int fd)
{
	struct timeval tv = { TIMEOUT_S, 0 };

	return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int rcv(int fd, struct msg *m, struct sockaddr_in *from)
{
	socklen_t l = sizeof(*from);
	int n;

	do
		n = recvfrom(fd, m, sizeof(*m), 0, (struct sockaddr *)from, &l);
	while (n < 0 && errno == EINTR);
	return n;
}

static int snd(int fd, const struct msg *m, const struct sockaddr_in *to)
{
	int n;

	do
		n = to ? sendto(fd, m, sizeof(*m), 0, (const struct sockaddr *)to, sizeof(*to)) : send(fd, m, sizeof(*m), 0);
	while (n < 0 && errno == EINTR);
	return n == sizeof(*m) ? 0 : -1;
}

/* the sender: connected to the parent */
static int sender(int s, const struct sockaddr_in *parent)
{
	uint64_t seq = 0, next_ack = 0;
	struct sockaddr_in from;
	struct msg m;
	int stopping = 0, n;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	while (1) {
		while (!stopping && seq - next_ack < WINDOW) {
			fill(&m, DATA, seq++);
			if (snd(s, &m, NULL))
				return 2;
		}
		if (stopping && next_ack == seq) {
			fill(&m, FIN, seq);
			return snd(s, &m, NULL) ? 3 : 0;
		}
		n = rcv(s, &m, &from);
		if (n < 0) {
			test_msg("sender: no acknowledgement of %llu for %d s (lost?)\n", (unsigned long long)next_ack,
				 TIMEOUT_S);
			return 4;
		}
		if (!valid(&m, n) || (m.kind != ACK && m.kind != STOP)) {
			test_msg("sender: a torn acknowledgement (%d bytes)\n", n);
			return 5;
		}
		if (from.sin_port != parent->sin_port || from.sin_addr.s_addr != parent->sin_addr.s_addr) {
			test_msg("sender: an acknowledgement from port %d\n", ntohs(from.sin_port));
			return 6;
		}
		if (m.seq != next_ack) {
			test_msg("sender: acknowledgement %llu, expected %llu\n", (unsigned long long)m.seq,
				 (unsigned long long)next_ack);
			return 7;
		}
		next_ack++;
		if (m.kind == STOP)
			stopping = 1;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, ap, ac, from;
	uint64_t expect = 0;
	struct msg m;
	int p, c, n, stop = 0, status;
	socklen_t l;
	pid_t pid;

	test_init(argc, argv);

	p = socket(AF_INET, SOCK_DGRAM, 0);
	c = socket(AF_INET, SOCK_DGRAM, 0);
	if (p < 0 || c < 0 || timeouts(p) || timeouts(c))
		return pr_perror("socket");
	l = sizeof(ap);
	if (bind(p, (struct sockaddr *)&lo, sizeof(lo)) || getsockname(p, (struct sockaddr *)&ap, &l))
		return pr_perror("bind");
	l = sizeof(ac);
	if (bind(c, (struct sockaddr *)&lo, sizeof(lo)) || getsockname(c, (struct sockaddr *)&ac, &l) ||
	    connect(c, (struct sockaddr *)&ap, sizeof(ap)))
		return pr_perror("bind/connect");

	pid = fork();
	if (pid < 0)
		return pr_perror("fork");
	if (pid == 0) {
		close(p);
		_exit(sender(c, &ap));
	}
	close(c);

	test_daemon();

	while (1) {
		n = rcv(p, &m, &from);
		if (n < 0) {
			fail("no datagram %llu for %d s (lost?)", (unsigned long long)expect, TIMEOUT_S);
			goto err;
		}
		if (!valid(&m, n) || (m.kind != DATA && m.kind != FIN)) {
			fail("a torn datagram (%d bytes) where %llu was expected", n, (unsigned long long)expect);
			goto err;
		}
		if (from.sin_port != ac.sin_port || from.sin_addr.s_addr != ac.sin_addr.s_addr) {
			fail("datagram %llu from port %d, expected %d", (unsigned long long)m.seq, ntohs(from.sin_port),
			     ntohs(ac.sin_port));
			goto err;
		}
		if (m.seq != expect) {
			fail("datagram %llu, expected %llu (lost, repeated or reordered)", (unsigned long long)m.seq,
			     (unsigned long long)expect);
			goto err;
		}
		if (m.kind == FIN)
			break;
		if (!test_go())
			stop = 1;
		fill(&m, stop ? STOP : ACK, expect++);
		if (snd(p, &m, &ac)) {
			fail("sending acknowledgement %llu", (unsigned long long)m.seq);
			goto err;
		}
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the sender: status %#x", status);
		return 1;
	}
	test_msg("%llu datagrams each way\n", (unsigned long long)expect);
	if (expect < 1000) {
		fail("the traffic did not flow");
		return 1;
	}
	pass();
	return 0;
err:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 1;
}
