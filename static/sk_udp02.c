#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "UDP options read back after C/R: SO_BROADCAST, SO_REUSEADDR, SO_PRIORITY, SO_RCVTIMEO, IP_TOS, "
		       "IP_TTL, IP_UNICAST_IF, IP_PKTINFO, IP_RECVTOS, IP_RECVTTL, IP_MTU_DISCOVER, IP_RECVERR, IP_FREEBIND, multicast "
		       "TTL and loop, UDP_CORK (empty), IPv6 TCLASS, unicast and multicast hops, multicast loop, "
		       "RECVPKTINFO, RECVTCLASS, RECVHOPLIMIT, UDP_SEGMENT, UDP_GRO; the ancillary data they ask for "
		       "still comes, and the corked socket still holds its datagram until uncorked";
const char *test_author = "Stasis developers";

#ifndef IP_UNICAST_IF
#define IP_UNICAST_IF 50
#endif
#ifndef IPV6_UNICAST_IF
#define IPV6_UNICAST_IF 76
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

struct opt {
	int fd6; /* 0: the IPv4 socket, 1: the IPv6 one, 2: the corked one */
	int level, name, value;
	const char *what;
};

static const struct opt opts[] = {
	{ 0, SOL_SOCKET, SO_BROADCAST, 1, "SO_BROADCAST" },
	{ 0, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR" },
	{ 0, IPPROTO_IP, IP_TOS, 0x10, "IP_TOS" },
	{ 0, SOL_SOCKET, SO_PRIORITY, 3, "SO_PRIORITY" }, /* after IP_TOS, which sets the priority too */
	{ 0, IPPROTO_IP, IP_TTL, 17, "IP_TTL" },
	{ 0, IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO" },
	{ 0, IPPROTO_IP, IP_RECVTOS, 1, "IP_RECVTOS" },
	{ 0, IPPROTO_IP, IP_RECVTTL, 1, "IP_RECVTTL" },
	{ 0, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO, "IP_MTU_DISCOVER" },
	{ 0, IPPROTO_IP, IP_RECVERR, 1, "IP_RECVERR" },
	{ 0, IPPROTO_IP, IP_FREEBIND, 1, "IP_FREEBIND" },
	{ 0, IPPROTO_IP, IP_MULTICAST_TTL, 5, "IP_MULTICAST_TTL" },
	{ 0, IPPROTO_IP, IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP" },
	{ 0, IPPROTO_IP, IP_UNICAST_IF, 0x01000000, "IP_UNICAST_IF" }, /* lo (index 1), in network order */
	{ 1, IPPROTO_IPV6, IPV6_TCLASS, 0x20, "IPV6_TCLASS" },
	{ 1, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 9, "IPV6_UNICAST_HOPS" },
	{ 1, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 3, "IPV6_MULTICAST_HOPS" },
	{ 1, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP" },
	{ 1, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO" },
	{ 1, IPPROTO_IPV6, IPV6_UNICAST_IF, 0x01000000, "IPV6_UNICAST_IF" },
	{ 1, IPPROTO_IPV6, IPV6_RECVTCLASS, 1, "IPV6_RECVTCLASS" },
	{ 1, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT" },
	{ 1, IPPROTO_UDP, UDP_SEGMENT, 1200, "UDP_SEGMENT" },
	{ 1, IPPROTO_UDP, UDP_GRO, 1, "UDP_GRO" },
	{ 2, IPPROTO_UDP, UDP_CORK, 1, "UDP_CORK" },
};
#define NR_OPTS (int)(sizeof(opts) / sizeof(opts[0]))

static int fds[3];

int main(int argc, char **argv)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, a4, ac;
	struct sockaddr_in6 lo6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT }, a6;
	struct timeval tv = { 3, 500000 }, tv2;
	socklen_t l;
	int i, v;

	test_init(argc, argv);

	fds[0] = socket(AF_INET, SOCK_DGRAM, 0);
	fds[1] = socket(AF_INET6, SOCK_DGRAM, 0);
	fds[2] = socket(AF_INET, SOCK_DGRAM, 0);
	if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0)
		return pr_perror("socket");
	for (i = 0; i < NR_OPTS; i++)
		if (setsockopt(fds[opts[i].fd6], opts[i].level, opts[i].name, &opts[i].value, sizeof(int)))
			return pr_perror("%s", opts[i].what);
	if (setsockopt(fds[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return pr_perror("SO_RCVTIMEO");
	l = sizeof(a4);
	if (bind(fds[0], (struct sockaddr *)&lo, sizeof(lo)) || getsockname(fds[0], (struct sockaddr *)&a4, &l))
		return pr_perror("bind");
	l = sizeof(a6);
	if (bind(fds[1], (struct sockaddr *)&lo6, sizeof(lo6)) || getsockname(fds[1], (struct sockaddr *)&a6, &l))
		return pr_perror("bind6");
	l = sizeof(ac);
	if (bind(fds[2], (struct sockaddr *)&lo, sizeof(lo)) || getsockname(fds[2], (struct sockaddr *)&ac, &l))
		return pr_perror("bind corked");

	test_daemon();
	test_waitsig();

	for (i = 0; i < NR_OPTS; i++) {
		v = -1;
		l = sizeof(v);
		if (getsockopt(fds[opts[i].fd6], opts[i].level, opts[i].name, &v, &l)) {
			fail("getsockopt %s", opts[i].what);
			return 1;
		}
		if (opts[i].level == SOL_SOCKET && (opts[i].name == SO_BROADCAST || opts[i].name == SO_REUSEADDR))
			v = !!v;
		if (v != opts[i].value) {
			fail("%s is %d, expected %d", opts[i].what, v, opts[i].value);
			return 1;
		}
	}
	l = sizeof(tv2);
	if (getsockopt(fds[0], SOL_SOCKET, SO_RCVTIMEO, &tv2, &l) || tv2.tv_sec != tv.tv_sec || tv2.tv_usec != tv.tv_usec) {
		fail("SO_RCVTIMEO %ld.%06ld", (long)tv2.tv_sec, (long)tv2.tv_usec);
		return 1;
	}

	/* the IPv4 socket sends to itself: TOS 0x10, TTL 17 and the destination come as cmsgs */
	{
		char buf[64], cbuf[512];
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c;
		int seen = 0;

		if (sendto(fds[0], "self", 4, 0, (struct sockaddr *)&a4, sizeof(a4)) != 4 || recvmsg(fds[0], &m, 0) != 4) {
			fail("send to self");
			return 1;
		}
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level != IPPROTO_IP)
				continue;
			if (c->cmsg_type == IP_TOS && (*(unsigned char *)CMSG_DATA(c) & 0xfc) == 0x10)
				seen |= 1;
			if (c->cmsg_type == IP_TTL && *(int *)CMSG_DATA(c) == 17)
				seen |= 2;
			if (c->cmsg_type == IP_PKTINFO &&
			    ((struct in_pktinfo *)CMSG_DATA(c))->ipi_addr.s_addr == htonl(INADDR_LOOPBACK))
				seen |= 4;
		}
		if (seen != 7) {
			fail("ancillary data after C/R: %x of 7", seen);
			return 1;
		}
	}
	/* the IPv6 socket too: tclass 0x20, hop limit 9, pktinfo */
	{
		char buf[64], cbuf[512];
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c;
		int seen = 0;

		if (sendto(fds[1], "self6", 5, 0, (struct sockaddr *)&a6, sizeof(a6)) != 5 || recvmsg(fds[1], &m, 0) != 5) {
			fail("send to self over IPv6");
			return 1;
		}
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level != IPPROTO_IPV6)
				continue;
			if (c->cmsg_type == IPV6_TCLASS && *(int *)CMSG_DATA(c) == 0x20)
				seen |= 1;
			if (c->cmsg_type == IPV6_HOPLIMIT && *(int *)CMSG_DATA(c) == 9)
				seen |= 2;
			if (c->cmsg_type == IPV6_PKTINFO)
				seen |= 4;
		}
		if (seen != 7) {
			fail("IPv6 ancillary data after C/R: %x of 7", seen);
			return 1;
		}
	}
	/* corked: nothing leaves until UDP_CORK is cleared */
	{
		struct pollfd p = { fds[0], POLLIN };
		char buf[64];
		int zero = 0;

		if (sendto(fds[2], "cor", 3, 0, (struct sockaddr *)&a4, sizeof(a4)) != 3 ||
		    sendto(fds[2], "ked", 3, 0, (struct sockaddr *)&a4, sizeof(a4)) != 3) {
			fail("send on the corked socket");
			return 1;
		}
		if (poll(&p, 1, 200) != 0) {
			fail("a corked datagram left before UDP_CORK was cleared");
			return 1;
		}
		if (setsockopt(fds[2], IPPROTO_UDP, UDP_CORK, &zero, sizeof(zero)) ||
		    recv(fds[0], buf, sizeof(buf), 0) != 6 || memcmp(buf, "corked", 6)) {
			fail("the corked datagram after UDP_CORK 0");
			return 1;
		}
	}
	pass();
	return 0;
}
