#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "ICMP ping sockets (SOCK_DGRAM, IPPROTO_ICMP): one bound to 127.0.0.1 with a chosen echo id, "
		       "one given its id by its first echo, one connected, one never used; ids, names and peers are "
		       "kept and every socket still gets its echo replies after C/R";
const char *test_author = "Stasis developers";

#define ID 0x4242

static int allow_ping(void)
{
	/* this network namespace is the test's: let our group (root's: the engine's too) make ping sockets */
	int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY), n;
	char r[64];

	n = snprintf(r, sizeof(r), "%d %d", (int)getgid(), (int)getgid());
	if (fd < 0 || write(fd, r, n) != n)
		return pr_perror("ping_group_range");
	close(fd);
	return 0;
}

static int ping(int fd, const struct sockaddr_in *to, int seq)
{
	struct icmphdr h = { .type = ICMP_ECHO, .un.echo.sequence = htons(seq) };
	char buf[64 + sizeof(h)], rep[256];
	int n;

	memcpy(buf, &h, sizeof(h));
	n = snprintf(buf + sizeof(h), 64, "echo %d", seq);
	n += sizeof(h);
	if ((to ? sendto(fd, buf, n, 0, (const struct sockaddr *)to, sizeof(*to)) : send(fd, buf, n, 0)) != n)
		return pr_perror("send echo %d", seq);
	if (recv(fd, rep, sizeof(rep), 0) != n)
		return pr_perror("recv echo reply %d", seq);
	memcpy(&h, rep, sizeof(h));
	if (h.type != ICMP_ECHOREPLY || ntohs(h.un.echo.sequence) != seq || memcmp(rep + sizeof(h), buf + sizeof(h), n - sizeof(h)))
		return pr_err("a wrong reply to echo %d\n", seq);
	return 0;
}

static int name_of(int fd, struct sockaddr_in *a, int peer)
{
	socklen_t l = sizeof(*a);

	memset(a, 0, sizeof(*a));
	return peer ? getpeername(fd, (struct sockaddr *)a, &l) : getsockname(fd, (struct sockaddr *)a, &l);
}

int main(int argc, char **argv)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, bl = lo;
	struct sockaddr_in n_bound, n_auto, n_conn, a;
	int bound, autob, conn, idle;
	struct timeval tv = { 5, 0 };

	test_init(argc, argv);
	if (allow_ping())
		return 1;

	bound = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	autob = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	conn = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	idle = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	if (bound < 0 || autob < 0 || conn < 0 || idle < 0)
		return pr_perror("socket(IPPROTO_ICMP)");
	setsockopt(bound, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(autob, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	bl.sin_port = htons(ID);
	if (bind(bound, (struct sockaddr *)&bl, sizeof(bl)))
		return pr_perror("bind");
	if (connect(conn, (struct sockaddr *)&lo, sizeof(lo)))
		return pr_perror("connect");
	if (ping(bound, &lo, 1) || ping(autob, &lo, 1) || ping(conn, NULL, 1))
		return 1;
	/* a connected ping socket has no peer port: getpeername says ENOTCONN, /proc/net/icmp shows the peer */
	if (name_of(bound, &n_bound, 0) || name_of(autob, &n_auto, 0) || name_of(conn, &n_conn, 0))
		return pr_perror("names");
	if (ntohs(n_bound.sin_port) != ID || !n_auto.sin_port)
		return pr_err("ids %x %x\n", ntohs(n_bound.sin_port), ntohs(n_auto.sin_port));

	test_daemon();
	test_waitsig();

	if (name_of(bound, &a, 0) || a.sin_port != n_bound.sin_port || a.sin_addr.s_addr != n_bound.sin_addr.s_addr) {
		fail("bound: id %x address %s", ntohs(a.sin_port), inet_ntoa(a.sin_addr));
		return 1;
	}
	if (name_of(autob, &a, 0) || a.sin_port != n_auto.sin_port) {
		fail("auto: id %x, expected %x", ntohs(a.sin_port), ntohs(n_auto.sin_port));
		return 1;
	}
	if (name_of(conn, &a, 0) || a.sin_port != n_conn.sin_port) {
		fail("connected: id %x", ntohs(a.sin_port));
		return 1;
	}
	if (name_of(idle, &a, 0) || a.sin_port) {
		fail("the unused socket has id %x", ntohs(a.sin_port));
		return 1;
	}
	/* send() without an address: still connected */
	if (ping(bound, &lo, 2) || ping(autob, &lo, 2) || ping(conn, NULL, 2)) {
		fail("echo after C/R");
		return 1;
	}
	if (name_of(bound, &a, 0) || ntohs(a.sin_port) != ID) {
		fail("the id changed by the echo");
		return 1;
	}
	pass();
	return 0;
}
