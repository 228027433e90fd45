#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "ICMPv6 ping sockets (SOCK_DGRAM, IPPROTO_ICMPV6): one bound to ::1 with a chosen echo id, "
		       "one given its id by its first echo, one connected with IPV6_UNICAST_HOPS set; ids and hops "
		       "kept, echo replies after C/R";
const char *test_author = "Stasis developers";

#define ID 0x6161

static int allow_ping(void)
{
	int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY), n; /* the range is IPv4's and IPv6's */
	char r[64];

	n = snprintf(r, sizeof(r), "%d %d", (int)getgid(), (int)getgid());
	if (fd < 0 || write(fd, r, n) != n)
		return pr_perror("ping_group_range");
	close(fd);
	return 0;
}

static int ping(int fd, const struct sockaddr_in6 *to, int seq)
{
	struct icmp6_hdr h = { .icmp6_type = ICMP6_ECHO_REQUEST };
	char buf[64 + sizeof(h)], rep[256];
	int n;

	h.icmp6_seq = htons(seq);
	memcpy(buf, &h, sizeof(h));
	n = snprintf(buf + sizeof(h), 64, "echo6 %d", seq) + sizeof(h);
	if ((to ? sendto(fd, buf, n, 0, (const struct sockaddr *)to, sizeof(*to)) : send(fd, buf, n, 0)) != n)
		return pr_perror("send echo %d", seq);
	if (recv(fd, rep, sizeof(rep), 0) != n)
		return pr_perror("recv echo reply %d", seq);
	memcpy(&h, rep, sizeof(h));
	if (h.icmp6_type != ICMP6_ECHO_REPLY || ntohs(h.icmp6_seq) != seq || memcmp(rep + sizeof(h), buf + sizeof(h), n - sizeof(h)))
		return pr_err("a wrong reply to echo %d\n", seq);
	return 0;
}

static int port_of(int fd)
{
	struct sockaddr_in6 a;
	socklen_t l = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &l))
		return -1;
	return ntohs(a.sin6_port);
}

int main(int argc, char **argv)
{
	struct sockaddr_in6 lo = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT }, bl = lo;
	int bound, autob, conn, id_auto, id_conn, hops = 7, v;
	struct timeval tv = { 5, 0 };
	socklen_t l;

	test_init(argc, argv);
	if (allow_ping())
		return 1;

	bound = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
	autob = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
	conn = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
	if (bound < 0 || autob < 0 || conn < 0)
		return pr_perror("socket(IPPROTO_ICMPV6)");
	setsockopt(bound, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(autob, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (setsockopt(conn, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops)))
		return pr_perror("IPV6_UNICAST_HOPS");
	bl.sin6_port = htons(ID);
	if (bind(bound, (struct sockaddr *)&bl, sizeof(bl)))
		return pr_perror("bind");
	if (connect(conn, (struct sockaddr *)&lo, sizeof(lo)))
		return pr_perror("connect");
	if (ping(bound, &lo, 1) || ping(autob, &lo, 1) || ping(conn, NULL, 1))
		return 1;
	id_auto = port_of(autob);
	id_conn = port_of(conn);

	test_daemon();
	test_waitsig();

	if (port_of(bound) != ID || port_of(autob) != id_auto || port_of(conn) != id_conn) {
		fail("ids %x %x %x, expected %x %x %x", port_of(bound), port_of(autob), port_of(conn), ID, id_auto, id_conn);
		return 1;
	}
	l = sizeof(v);
	if (getsockopt(conn, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, &l) || v != hops) {
		fail("IPV6_UNICAST_HOPS %d", v);
		return 1;
	}
	if (ping(bound, &lo, 2) || ping(autob, &lo, 2) || ping(conn, NULL, 2)) {
		fail("echo after C/R");
		return 1;
	}
	pass();
	return 0;
}
