#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "ICMP and ICMPv6 ping sockets with echo replies not read yet (a ping stopped between its "
		       "request and reading the reply): every reply comes back after C/R with its sequence number, "
		       "payload and sender, and the sockets ping on";
const char *test_author = "Stasis developers";

#define NR 3

static int allow_ping(void)
{
	int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY), n;
	char r[64];

	n = snprintf(r, sizeof(r), "%d %d", (int)getgid(), (int)getgid());
	if (fd < 0 || write(fd, r, n) != n)
		return pr_perror("ping_group_range");
	close(fd);
	return 0;
}

/* an echo request: the ICMP header (type, code, checksum, id, seq) then "echo <seq>" */
static int echo(int fd, int v6, const struct sockaddr *to, socklen_t tl, int seq)
{
	unsigned char buf[64] = { v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO };
	int n;

	buf[6] = seq >> 8;
	buf[7] = seq;
	n = 8 + snprintf((char *)buf + 8, 32, "echo %d", seq);
	return sendto(fd, buf, n, 0, to, tl) == n ? 0 : -1;
}

static int reply(int fd, int v6, int seq, const void *from_addr)
{
	unsigned char buf[128];
	char want[32];
	struct sockaddr_storage from;
	socklen_t l = sizeof(from);
	int n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &l), w;

	w = snprintf(want, sizeof(want), "echo %d", seq);
	if (n != 8 + w || buf[0] != (v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY) || (buf[6] << 8 | buf[7]) != seq ||
	    memcmp(buf + 8, want, w)) {
		fail("%s reply %d: %d bytes, type %d", v6 ? "ICMPv6" : "ICMP", seq, n, n > 0 ? buf[0] : -1);
		return 1;
	}
	if (v6 ? memcmp(&((struct sockaddr_in6 *)&from)->sin6_addr, from_addr, 16) :
		 memcmp(&((struct sockaddr_in *)&from)->sin_addr, from_addr, 4)) {
		fail("%s reply %d from another sender", v6 ? "ICMPv6" : "ICMP", seq);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 lo6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int s4, s6, i, id4, id6;
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;
	socklen_t l;

	test_init(argc, argv);
	if (allow_ping())
		return 1;
	s4 = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	s6 = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
	if (s4 < 0 || s6 < 0)
		return pr_perror("socket");
	for (i = 0; i < NR; i++)
		if (echo(s4, 0, (struct sockaddr *)&lo, sizeof(lo), i) || echo(s6, 1, (struct sockaddr *)&lo6, sizeof(lo6), i))
			return pr_perror("echo %d", i);
	usleep(100000);
	{
		struct pollfd p[2] = { { s4, POLLIN }, { s6, POLLIN } };

		if (poll(p, 2, 5000) < 1)
			return pr_err("no replies\n");
	}
	l = sizeof(a4);
	getsockname(s4, (struct sockaddr *)&a4, &l);
	l = sizeof(a6);
	getsockname(s6, (struct sockaddr *)&a6, &l);
	id4 = a4.sin_port;
	id6 = a6.sin6_port;

	test_daemon();
	test_waitsig();

	l = sizeof(a4);
	getsockname(s4, (struct sockaddr *)&a4, &l);
	l = sizeof(a6);
	getsockname(s6, (struct sockaddr *)&a6, &l);
	if (a4.sin_port != id4 || a6.sin6_port != id6) {
		fail("echo ids changed");
		return 1;
	}
	for (i = 0; i < NR; i++)
		if (reply(s4, 0, i, &lo.sin_addr) || reply(s6, 1, i, &lo6.sin6_addr))
			return 1;
	if (recv(s4, &i, sizeof(i), MSG_DONTWAIT) != -1 || errno != EAGAIN || recv(s6, &i, sizeof(i), MSG_DONTWAIT) != -1 ||
	    errno != EAGAIN) {
		fail("more replies than were queued");
		return 1;
	}
	if (echo(s4, 0, (struct sockaddr *)&lo, sizeof(lo), 9) || echo(s6, 1, (struct sockaddr *)&lo6, sizeof(lo6), 9)) {
		fail("echo after C/R");
		return 1;
	}
	{
		struct pollfd p[2] = { { s4, POLLIN }, { s6, POLLIN } };

		poll(p, 1, 5000);
		poll(p + 1, 1, 5000);
		if (reply(s4, 0, 9, &lo.sin_addr) || reply(s6, 1, 9, &lo6.sin6_addr))
			return 1;
	}
	pass();
	return 0;
}
