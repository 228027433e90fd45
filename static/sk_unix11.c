#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "sk_unix.h"

const char *test_doc = "Many datagram senders to one bound receiver: children connected to the receiver, some "
		       "bound to their own abstract names, one unbound, one that exited after sending, and the "
		       "parent with sendto; the receiver's queue holds datagrams from all of them. After C/R "
		       "every datagram comes in order with its size and its sender's address, and the children "
		       "send again";
const char *test_author = "Stasis developers";

#define NR_KIDS 4

static char rname[64], kname[NR_KIDS][64];
static int go[2], ready[2];

static int kid(int k, int rcv)
{
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	close(rcv);
	close(go[1]);
	if (s < 0 || (kname[k][0] && sk_bind(s, kname[k])) || sk_connect(s, rname))
		return 2;
	if (sk_send(s, 10 + k, 0, 100 + k) || sk_send(s, 10 + k, 1000, 1 + k))
		return 3;
	if (write(ready[1], "r", 1) != 1)
		return 7;
	if (k == NR_KIDS - 1)
		return 0; /* exits: its datagrams stay */
	if (read(go[0], &c, 1) != 1)
		return 4;
	if (sk_check_name(s, 1, rname) || (kname[k][0] && sk_check_name(s, 0, kname[k])))
		return 5;
	if (sk_send(s, 20 + k, 0, 10))
		return 6;
	return 0;
}

static int recv_from(int rcv, int stream, long off, size_t len, const char *from)
{
	uint8_t buf[2000], want[2000];
	struct sockaddr_un a, w;
	socklen_t alen = sizeof(a), wlen = from[0] ? sk_addr(&w, from) : offsetof(struct sockaddr_un, sun_path);
	ssize_t n;

	memset(&a, 0, sizeof(a));
	n = recvfrom(rcv, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&a, &alen);
	sk_fill(want, stream, off, len);
	if (n != (ssize_t)len || memcmp(buf, want, len)) {
		pr_err("datagram of stream %d: %zd bytes, expected %zu\n", stream, n, len);
		return -1;
	}
	if (from[0] ? (alen != wlen || memcmp(&a, &w, alen)) : alen > wlen) {
		pr_err("datagram of stream %d: sender address of length %u, expected %s\n", stream, alen,
		       from[0] ? from : "none");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int rcv, snd, k, status;
	pid_t pids[NR_KIDS];
	struct sockaddr_un ra;
	socklen_t ralen;
	char got[64], c;

	test_init(argc, argv);

	snprintf(rname, sizeof(rname), "@stasis-sk-unix11-%d", getpid());
	for (k = 0; k < NR_KIDS; k++)
		if (k != 1)
			snprintf(kname[k], sizeof(kname[k]), "@stasis-sk-unix11-%d-k%d", getpid(), k);
	ralen = sk_addr(&ra, rname);
	rcv = socket(AF_UNIX, SOCK_DGRAM, 0);
	snd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (rcv < 0 || snd < 0 || sk_bind(rcv, rname) || pipe(go) || pipe(ready)) {
		pr_perror("receiver");
		return 1;
	}
	/* one at a time, so the order in the queue is known */
	for (k = 0; k < NR_KIDS; k++) {
		pids[k] = fork();
		if (pids[k] < 0) {
			pr_perror("fork");
			return 1;
		}
		if (pids[k] == 0)
			_exit(kid(k, rcv));
		if (read(ready[0], &c, 1) != 1) {
			pr_perror("child %d did not send", k);
			return 1;
		}
	}
	if (sendto(snd, "parent", 6, 0, (struct sockaddr *)&ra, ralen) != 6) {
		pr_perror("sendto");
		return 1;
	}
	close(go[0]);

	test_daemon();
	test_waitsig();

	for (k = 0; k < NR_KIDS; k++)
		if (recv_from(rcv, 10 + k, 0, 100 + k, kname[k]) || recv_from(rcv, 10 + k, 1000, 1 + k, kname[k])) {
			fail("the datagrams of child %d after C/R", k);
			goto err;
		}
	{
		struct sockaddr_un a;
		socklen_t alen = sizeof(a);

		if (recvfrom(rcv, got, sizeof(got), MSG_DONTWAIT, (struct sockaddr *)&a, &alen) != 6 ||
		    memcmp(got, "parent", 6) || alen > offsetof(struct sockaddr_un, sun_path)) {
			fail("the parent's datagram after C/R");
			goto err;
		}
	}
	if (sk_empty(rcv)) {
		fail("more datagrams than queued");
		goto err;
	}
	if (write(go[1], "ggg", NR_KIDS - 1) != NR_KIDS - 1) {
		fail("write go");
		goto err;
	}
	for (k = 0; k < NR_KIDS - 1; k++) {
		if (waitpid(pids[k], &status, 0) != pids[k] || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fail("child %d exit status %#x", k, status);
			return 1;
		}
		pids[k] = 0;
	}
	/* their datagrams, in the order they exited */
	for (k = 0; k < NR_KIDS - 1; k++) {
		uint8_t b[100];
		struct sockaddr_un a;
		socklen_t alen = sizeof(a);
		ssize_t n = recvfrom(rcv, b, sizeof(b), MSG_DONTWAIT, (struct sockaddr *)&a, &alen);

		if (n != 10) {
			fail("datagram %d after C/R: %zd", k, n);
			return 1;
		}
	}
	pass();
	return 0;
err:
	for (k = 0; k < NR_KIDS - 1; k++)
		if (pids[k] > 0)
			kill(pids[k], SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
	return 1;
}
