#include <arpa/inet.h>
#include <errno.h>
#include <linux/icmp.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Raw IPv4 sockets: IPPROTO_ICMP with an ICMP_FILTER letting only echo replies through, "
		       "IPPROTO_RAW (IP_HDRINCL implied), IPPROTO_UDP bound to 127.0.0.1 with IP_HDRINCL and "
		       "IP_NODEFRAG set, one connected; options and names read back, the ICMP filter still filters "
		       "and the sockets still send and receive after C/R";
const char *test_author = "Stasis developers";

static unsigned short csum(const void *p, int len)
{
	const unsigned short *w = p;
	unsigned long s = 0;

	for (; len > 1; len -= 2)
		s += *w++;
	if (len)
		s += *(const unsigned char *)w;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s;
}

static int getint(int fd, int level, int opt)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, level, opt, &v, &l))
		return -1;
	return v;
}

int main(int argc, char **argv)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, a;
	struct icmp_filter filt = { ~(1U << ICMP_ECHOREPLY) }, f2;
	int icmp, rawp, udp, conn, one = 1;
	socklen_t l;

	test_init(argc, argv);

	icmp = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	rawp = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	udp = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
	conn = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (icmp < 0 || rawp < 0 || udp < 0 || conn < 0)
		return pr_perror("socket(SOCK_RAW)");
	if (setsockopt(icmp, SOL_RAW, ICMP_FILTER, &filt, sizeof(filt)))
		return pr_perror("ICMP_FILTER");
	if (setsockopt(udp, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) ||
	    setsockopt(udp, IPPROTO_IP, IP_NODEFRAG, &one, sizeof(one)))
		return pr_perror("IP_HDRINCL");
	if (bind(udp, (struct sockaddr *)&lo, sizeof(lo)))
		return pr_perror("bind");
	if (connect(conn, (struct sockaddr *)&lo, sizeof(lo)))
		return pr_perror("connect");

	test_daemon();
	test_waitsig();

	l = sizeof(f2);
	if (getsockopt(icmp, SOL_RAW, ICMP_FILTER, &f2, &l) || f2.data != filt.data) {
		fail("ICMP_FILTER %x, expected %x", f2.data, filt.data);
		return 1;
	}
	if (getint(rawp, IPPROTO_IP, IP_HDRINCL) != 1 || getint(udp, IPPROTO_IP, IP_HDRINCL) != 1 ||
	    getint(udp, IPPROTO_IP, IP_NODEFRAG) != 1 || getint(icmp, IPPROTO_IP, IP_HDRINCL) != 0) {
		fail("IP_HDRINCL/IP_NODEFRAG not kept");
		return 1;
	}
	l = sizeof(a);
	if (getsockname(udp, (struct sockaddr *)&a, &l) || a.sin_addr.s_addr != htonl(INADDR_LOOPBACK)) {
		fail("the UDP raw socket is bound to %s", inet_ntoa(a.sin_addr));
		return 1;
	}
	/* an echo request through the connected socket: the filtered one sees only the reply */
	{
		struct icmphdr h = { .type = ICMP_ECHO, .un.echo.id = htons(0x77), .un.echo.sequence = htons(3) };
		char buf[256];
		struct pollfd p = { icmp, POLLIN };
		struct iphdr *ip = (struct iphdr *)buf;
		int n;

		h.checksum = csum(&h, sizeof(h));
		if (send(conn, &h, sizeof(h), 0) != sizeof(h)) {
			fail("send on the connected raw socket");
			return 1;
		}
		if (poll(&p, 1, 5000) != 1) {
			fail("no echo reply on the filtered socket");
			return 1;
		}
		while ((n = recv(icmp, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			struct icmphdr *r = (struct icmphdr *)(buf + ip->ihl * 4);

			if (r->type != ICMP_ECHOREPLY) {
				fail("ICMP type %d got through the filter", r->type);
				return 1;
			}
		}
		/* the unfiltered connected socket sees the request and the reply */
		n = 0;
		while (recv(conn, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			n++;
		if (n != 2) {
			fail("the unfiltered socket saw %d packets, expected 2", n);
			return 1;
		}
	}
	/* IPPROTO_RAW writes a whole UDP datagram that the raw UDP socket receives */
	{
		struct {
			struct iphdr ip;
			unsigned short sport, dport, len, sum;
			char data[8];
		} __attribute__((packed)) pk = { .ip = { .version = 4, .ihl = 5, .ttl = 64, .protocol = IPPROTO_UDP,
							 .saddr = htonl(INADDR_LOOPBACK), .daddr = htonl(INADDR_LOOPBACK) },
						 .sport = htons(1111), .dport = htons(2222), .len = htons(16), .data = "rawdata" };
		char buf[256];
		int n, got = 0;
		struct pollfd p = { udp, POLLIN };

		if (sendto(rawp, &pk, sizeof(pk), 0, (struct sockaddr *)&lo, sizeof(lo)) != sizeof(pk)) {
			fail("sendto on IPPROTO_RAW");
			return 1;
		}
		if (poll(&p, 1, 5000) != 1) {
			fail("nothing on the raw UDP socket");
			return 1;
		}
		while ((n = recv(udp, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
			if (n == (int)sizeof(pk) && !memcmp(buf + 28, "rawdata", 8))
				got++;
		if (got != 1) {
			fail("the raw UDP socket got %d copies", got);
			return 1;
		}
	}
	pass();
	return 0;
}
