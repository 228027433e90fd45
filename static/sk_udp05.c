#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "UDP sockets shared and grouped: one socket held by a parent and its child (one "
		       "description) with datagrams queued, of which the child had peeked two with SO_PEEK_OFF; two "
		       "SO_REUSEPORT sockets bound to one port; after C/R the child peeks on from where it was, "
		       "reads every datagram, and the reuseport pair shares the port again";
const char *test_author = "Stasis developers";

#define NR 5

static int shared, snd, rp[2];
static struct sockaddr_in a_shared, a_snd, a_rp;

static int child(int go)
{
	char buf[64], want[32];
	int i, n, off;
	socklen_t l = sizeof(off);
	char c;

	if (read(go, &c, 1) != 1)
		return 2;
	/* peeked twice before C/R: the offset skips the first two datagrams */
	if (getsockopt(shared, SOL_SOCKET, SO_PEEK_OFF, &off, &l) || off != 2 * 10)
		return 3;
	n = recv(shared, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	if (n != 10 || memcmp(buf, "datagram 2", 10))
		return 4;
	for (i = 0; i < NR; i++) {
		struct sockaddr_in from;

		l = sizeof(from);
		n = recvfrom(shared, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &l);
		snprintf(want, sizeof(want), "datagram %d", i);
		if (n != 10 || memcmp(buf, want, 10) || from.sin_port != a_snd.sin_port)
			return 10 + i;
	}
	if (recv(shared, buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN)
		return 5;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, a;
	int i, one = 1, zero = 0, go[2], ready[2], status, got[2] = { 0, 0 };
	socklen_t l;
	char buf[64];
	pid_t pid;

	test_init(argc, argv);

	shared = socket(AF_INET, SOCK_DGRAM, 0);
	snd = socket(AF_INET, SOCK_DGRAM, 0);
	rp[0] = socket(AF_INET, SOCK_DGRAM, 0);
	rp[1] = socket(AF_INET, SOCK_DGRAM, 0);
	if (shared < 0 || snd < 0 || rp[0] < 0 || rp[1] < 0 || pipe(go) || pipe(ready))
		return pr_perror("socket");
	l = sizeof(a_shared);
	if (bind(shared, (struct sockaddr *)&lo, sizeof(lo)) || getsockname(shared, (struct sockaddr *)&a_shared, &l))
		return pr_perror("bind");
	l = sizeof(a_snd);
	if (bind(snd, (struct sockaddr *)&lo, sizeof(lo)) || getsockname(snd, (struct sockaddr *)&a_snd, &l))
		return pr_perror("bind");
	for (i = 0; i < 2; i++)
		if (setsockopt(rp[i], SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)))
			return pr_perror("SO_REUSEPORT");
	l = sizeof(a_rp);
	if (bind(rp[0], (struct sockaddr *)&lo, sizeof(lo)) || getsockname(rp[0], (struct sockaddr *)&a_rp, &l) ||
	    bind(rp[1], (struct sockaddr *)&a_rp, sizeof(a_rp)))
		return pr_perror("bind reuseport");
	for (i = 0; i < NR; i++) {
		snprintf(buf, sizeof(buf), "datagram %d", i);
		if (sendto(snd, buf, 10, 0, (struct sockaddr *)&a_shared, sizeof(a_shared)) != 10)
			return pr_perror("sendto");
	}
	if (setsockopt(shared, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)))
		return pr_perror("SO_PEEK_OFF");
	for (i = 0; i < 2; i++)
		if (recv(shared, buf, sizeof(buf), MSG_PEEK) != 10)
			return pr_perror("peek");

	pid = fork();
	if (pid < 0)
		return pr_perror("fork");
	if (pid == 0) {
		close(go[1]);
		close(ready[0]);
		close(ready[1]);
		_exit(child(go[0]));
	}
	close(go[0]);
	close(ready[1]);
	if (read(ready[0], buf, 1) != 0) /* end of file: the child has its fds as they stay */
		return pr_perror("ready");
	close(ready[0]);

	test_daemon();
	test_waitsig();

	if (write(go[1], "g", 1) != 1 || waitpid(pid, &status, 0) != pid) {
		fail("the child");
		return 1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child failed with %d", WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
		return 1;
	}
	for (i = 0; i < 2; i++) {
		l = sizeof(a);
		if (getsockname(rp[i], (struct sockaddr *)&a, &l) || a.sin_port != a_rp.sin_port ||
		    getsockopt(rp[i], SOL_SOCKET, SO_REUSEPORT, &one, &(socklen_t){ sizeof(one) }) || one != 1) {
			fail("reuseport socket %d", i);
			return 1;
		}
	}
	/* datagrams from many source ports spread over the group: both get some */
	for (i = 0; i < 64; i++) {
		int s = socket(AF_INET, SOCK_DGRAM, 0);

		if (s < 0 || sendto(s, "rp", 2, 0, (struct sockaddr *)&a_rp, sizeof(a_rp)) != 2) {
			fail("send to the reuseport group");
			return 1;
		}
		close(s);
	}
	for (i = 0; i < 2; i++)
		while (recv(rp[i], buf, sizeof(buf), MSG_DONTWAIT) == 2)
			got[i]++;
	if (got[0] + got[1] != 64 || !got[0] || !got[1]) {
		fail("the reuseport group got %d and %d of 64", got[0], got[1]);
		return 1;
	}
	pass();
	return 0;
}
