#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "UDP multicast memberships: an IPv4 socket in 239.1.2.3 on lo (IP_ADD_MEMBERSHIP), one in "
		       "239.4.5.6 for the source 127.0.0.1 only (IP_ADD_SOURCE_MEMBERSHIP), an IPv6 socket in "
		       "ff15::1234 on lo; each membership and source filter reads back (MCAST_MSFILTER) after C/R "
		       "and a datagram sent to the group on lo (IP_MULTICAST_IF 127.0.0.1) still arrives";
const char *test_author = "Stasis developers";

static int lo;

/* fmode and number of sources of the socket's membership, -1 if it is not a member */
static int msfilter(int fd, int family, const void *group, int *fmode)
{
	char buf[sizeof(struct group_filter) + 4 * sizeof(struct sockaddr_storage)];
	struct group_filter *gf = (struct group_filter *)buf;
	socklen_t l = sizeof(buf);

	memset(buf, 0, sizeof(buf));
	gf->gf_interface = lo;
	gf->gf_numsrc = 4; /* room for this many: the kernel copies at most that */
	gf->gf_group.ss_family = family;
	if (family == AF_INET)
		memcpy(&((struct sockaddr_in *)&gf->gf_group)->sin_addr, group, 4);
	else
		memcpy(&((struct sockaddr_in6 *)&gf->gf_group)->sin6_addr, group, 16);
	if (getsockopt(fd, family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6, MCAST_MSFILTER, gf, &l))
		return -1;
	*fmode = gf->gf_fmode;
	if (gf->gf_numsrc == 1 && family == AF_INET &&
	    ((struct sockaddr_in *)&gf->gf_slist[0])->sin_addr.s_addr != htonl(INADDR_LOOPBACK))
		return -2;
	return gf->gf_numsrc;
}

int main(int argc, char **argv)
{
	struct sockaddr_in any = { .sin_family = AF_INET }, to = { .sin_family = AF_INET };
	struct sockaddr_in6 any6 = { .sin6_family = AF_INET6 };
	struct in_addr g1, g2;
	struct in6_addr g6;
	int a, b, c, s, fm, n;
	char buf[64];
	socklen_t l;

	test_init(argc, argv);

	lo = if_nametoindex("lo");
	inet_pton(AF_INET, "239.1.2.3", &g1);
	inet_pton(AF_INET, "239.4.5.6", &g2);
	inet_pton(AF_INET6, "ff15::1234", &g6);
	a = socket(AF_INET, SOCK_DGRAM, 0);
	b = socket(AF_INET, SOCK_DGRAM, 0);
	c = socket(AF_INET6, SOCK_DGRAM, 0);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (!lo || a < 0 || b < 0 || c < 0 || s < 0)
		return pr_perror("socket");
	if (bind(a, (struct sockaddr *)&any, sizeof(any)))
		return pr_perror("bind");
	l = sizeof(to);
	if (getsockname(a, (struct sockaddr *)&to, &l))
		return pr_perror("getsockname");
	{
		struct ip_mreqn m = { .imr_multiaddr = g1, .imr_ifindex = lo };
		struct ip_mreq_source ms = { .imr_multiaddr = g2, .imr_interface.s_addr = htonl(INADDR_LOOPBACK),
					     .imr_sourceaddr.s_addr = htonl(INADDR_LOOPBACK) };
		struct ipv6_mreq m6 = { .ipv6mr_multiaddr = g6, .ipv6mr_interface = lo };

		if (setsockopt(a, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m)))
			return pr_perror("IP_ADD_MEMBERSHIP");
		if (setsockopt(b, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms, sizeof(ms)))
			return pr_perror("IP_ADD_SOURCE_MEMBERSHIP");
		if (setsockopt(c, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &m6, sizeof(m6)))
			return pr_perror("IPV6_ADD_MEMBERSHIP");
		if (bind(c, (struct sockaddr *)&any6, sizeof(any6)))
			return pr_perror("bind6");
	}
	{
		/* by address: an interface index given in a struct ip_mreqn cannot be read back (getsockopt
		 * IP_MULTICAST_IF gives the address only) */
		struct in_addr m = { htonl(INADDR_LOOPBACK) };

		if (setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof(m)))
			return pr_perror("IP_MULTICAST_IF");
	}

	test_daemon();
	test_waitsig();

	if ((n = msfilter(a, AF_INET, &g1, &fm)) != 0 || fm != MCAST_EXCLUDE) {
		fail("a: membership of 239.1.2.3: %d sources, mode %d", n, fm);
		return 1;
	}
	if (msfilter(a, AF_INET, &g2, &fm) != -1) {
		fail("a is in 239.4.5.6");
		return 1;
	}
	if ((n = msfilter(b, AF_INET, &g2, &fm)) != 1 || fm != MCAST_INCLUDE) {
		fail("b: membership of 239.4.5.6: %d sources, mode %d", n, fm);
		return 1;
	}
	if ((n = msfilter(c, AF_INET6, &g6, &fm)) != 0 || fm != MCAST_EXCLUDE) {
		fail("c: membership of ff15::1234: %d sources, mode %d", n, fm);
		return 1;
	}
	to.sin_addr = g1;
	if (sendto(s, "group", 5, 0, (struct sockaddr *)&to, sizeof(to)) != 5) {
		fail("sendto 239.1.2.3");
		return 1;
	}
	{
		struct timeval tv = { 5, 0 };

		setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (recv(a, buf, sizeof(buf), 0) != 5 || memcmp(buf, "group", 5)) {
			fail("the datagram to the group");
			return 1;
		}
	}
	pass();
	return 0;
}
