/* A datagram socket of the tree connected to a receiver outside it (sk_unix15, sk_unix16) */
#include "sk_unix_ext.h"

static char rname[64], sname[64];
static int ready[2];

/* Echoes every datagram back to its sender's address, "bye" ends it */
static int outsider(void *arg)
{
	int r = socket(AF_UNIX, SOCK_DGRAM, 0);
	char buf[64];
	struct sockaddr_un a;
	socklen_t alen;
	ssize_t n;

	if (r < 0 || sk_bind(r, rname) || write(ready[1], "r", 1) != 1)
		return 1;
	while (1) {
		alen = sizeof(a);
		n = recvfrom(r, buf, sizeof(buf), 0, (struct sockaddr *)&a, &alen);
		if (n < 0)
			return 2;
		if (n == 3 && !memcmp(buf, "bye", 3))
			return 0;
		if (sendto(r, buf, n, 0, (struct sockaddr *)&a, alen) != n)
			return 3;
	}
}

static int ping(int s, const char *msg)
{
	char buf[64];
	ssize_t n;

	if (send(s, msg, strlen(msg), 0) != (ssize_t)strlen(msg))
		return -1;
	n = recv(s, buf, sizeof(buf), 0);
	if (n != (ssize_t)strlen(msg) || memcmp(buf, msg, n))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	int s;
	struct timeval tv = { 10, 0 };

	test_init(argc, argv);

	snprintf(rname, sizeof(rname), "@stasis-%s-r-%d", EXT_NAME, getpid());
	snprintf(sname, sizeof(sname), "@stasis-%s-s-%d", EXT_NAME, getpid());
	if (pipe(ready) || sk_outsider(outsider, NULL, ready[0], ready[1])) {
		pr_perror("outsider");
		return 1;
	}
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (s < 0 || sk_bind(s, sname) || sk_connect(s, rname) ||
	    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) || ping(s, "before")) {
		pr_perror("sender");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (sk_check_name(s, 0, sname) || sk_check_name(s, 1, rname)) {
		fail("names after C/R");
		return 1;
	}
	if (ping(s, "after")) {
		fail("the outside receiver does not answer after C/R");
		return 1;
	}
	send(s, "bye", 3, 0);
	pass();
	return 0;
}
