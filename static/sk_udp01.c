#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "UDP over IPv6: a dual-stack socket bound to :: with datagrams queued from an IPv6 sender "
		       "(::1) and an IPv4 one (seen as ::ffff:127.0.0.1), an IPV6_V6ONLY socket bound to ::1, a "
		       "socket connected over IPv6; senders, names, IPV6_V6ONLY and traffic after C/R";
const char *test_author = "Stasis developers";

#define NR 8

static int name_of(int fd, struct sockaddr_in6 *a, int peer)
{
	socklen_t l = sizeof(*a);

	memset(a, 0, sizeof(*a));
	return peer ? getpeername(fd, (struct sockaddr *)a, &l) : getsockname(fd, (struct sockaddr *)a, &l);
}

static int same6(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b)
{
	return a->sin6_family == b->sin6_family && a->sin6_port == b->sin6_port &&
	       !memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr));
}

static int v6only(int fd)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &l))
		return -1;
	return v;
}

int main(int argc, char **argv)
{
	struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT }, lo6 = { .sin6_family = AF_INET6,
												      .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in6 a_dual, a_only, a_snd6, a_conn, from, mapped, a;
	struct sockaddr_in to4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, a_snd4;
	int dual, only, snd6, snd4, conn, i, one = 1, n;
	char buf[256], want[64];
	socklen_t fl;

	test_init(argc, argv);

	dual = socket(AF_INET6, SOCK_DGRAM, 0);
	only = socket(AF_INET6, SOCK_DGRAM, 0);
	snd6 = socket(AF_INET6, SOCK_DGRAM, 0);
	snd4 = socket(AF_INET, SOCK_DGRAM, 0);
	conn = socket(AF_INET6, SOCK_DGRAM, 0);
	if (dual < 0 || only < 0 || snd6 < 0 || snd4 < 0 || conn < 0)
		return pr_perror("socket");
	if (setsockopt(only, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)))
		return pr_perror("IPV6_V6ONLY");
	if (bind(dual, (struct sockaddr *)&any, sizeof(any)) || bind(only, (struct sockaddr *)&lo6, sizeof(lo6)) ||
	    bind(snd6, (struct sockaddr *)&lo6, sizeof(lo6)))
		return pr_perror("bind");
	if (name_of(dual, &a_dual, 0) || name_of(only, &a_only, 0) || name_of(snd6, &a_snd6, 0))
		return pr_perror("getsockname");
	if (connect(conn, (struct sockaddr *)&a_only, sizeof(a_only)))
		return pr_perror("connect");
	to4.sin_port = a_dual.sin6_port;
	for (i = 0; i < NR; i++) {
		struct sockaddr_in6 to = lo6;

		to.sin6_port = a_dual.sin6_port;
		n = snprintf(want, sizeof(want), "datagram %d", i);
		if (i % 2 ? sendto(snd4, want, n, 0, (struct sockaddr *)&to4, sizeof(to4)) != n :
			    sendto(snd6, want, n, 0, (struct sockaddr *)&to, sizeof(to)) != n)
			return pr_perror("sendto %d", i);
	}
	if (send(conn, "to-only", 7, 0) != 7)
		return pr_perror("send");
	fl = sizeof(a_snd4);
	if (getsockname(snd4, (struct sockaddr *)&a_snd4, &fl) || name_of(conn, &a_conn, 0))
		return pr_perror("getsockname");
	memset(&mapped, 0, sizeof(mapped));
	mapped.sin6_family = AF_INET6;
	mapped.sin6_port = a_snd4.sin_port;
	mapped.sin6_addr.s6_addr[10] = mapped.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&mapped.sin6_addr.s6_addr[12], &to4.sin_addr, 4);

	test_daemon();
	test_waitsig();

	if (name_of(dual, &a, 0) || !same6(&a, &a_dual) || name_of(only, &a, 0) || !same6(&a, &a_only) ||
	    name_of(conn, &a, 0) || !same6(&a, &a_conn) || name_of(conn, &a, 1) || !same6(&a, &a_only)) {
		fail("names or peers changed");
		return 1;
	}
	if (v6only(dual) != 0 || v6only(only) != 1) {
		fail("IPV6_V6ONLY %d %d", v6only(dual), v6only(only));
		return 1;
	}
	for (i = 0; i < NR; i++) {
		fl = sizeof(from);
		memset(&from, 0, sizeof(from));
		n = recvfrom(dual, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		snprintf(want, sizeof(want), "datagram %d", i);
		if (n != (int)strlen(want) || memcmp(buf, want, n)) {
			fail("datagram %d: %d bytes", i, n);
			return 1;
		}
		if (!same6(&from, i % 2 ? &mapped : &a_snd6)) {
			char s[64];

			inet_ntop(AF_INET6, &from.sin6_addr, s, sizeof(s));
			fail("datagram %d from [%s]:%d", i, s, ntohs(from.sin6_port));
			return 1;
		}
	}
	if (recv(dual, buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN) {
		fail("an extra datagram");
		return 1;
	}
	fl = sizeof(from);
	if (recvfrom(only, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl) != 7 || memcmp(buf, "to-only", 7) ||
	    !same6(&from, &a_conn)) {
		fail("the v6only socket's datagram");
		return 1;
	}
	/* IPv4 still reaches the dual-stack socket, never the v6only one */
	if (sendto(snd4, "v4", 2, 0, (struct sockaddr *)&to4, sizeof(to4)) != 2 ||
	    recvfrom(dual, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) != 2 || !same6(&from, &mapped)) {
		fail("IPv4 to the dual-stack socket after C/R");
		return 1;
	}
	if (send(conn, "again", 5, 0) != 5 || recv(only, buf, sizeof(buf), 0) != 5 || sendto(only, "back", 4, 0,
	    (struct sockaddr *)&a_conn, sizeof(a_conn)) != 4 || recv(conn, buf, sizeof(buf), 0) != 4) {
		fail("traffic on the v6 pair after C/R");
		return 1;
	}
	pass();
	return 0;
}
