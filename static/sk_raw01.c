#include <arpa/inet.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Raw IPv6 sockets: IPPROTO_ICMPV6 with an ICMPV6_FILTER passing only echo replies, bound to "
		       "::1; IPPROTO_UDP with IPV6_CHECKSUM at offset 6 and IPV6_V6ONLY; filter, checksum offset "
		       "and names kept, the filter still filters after C/R";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	struct sockaddr_in6 lo = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT }, a;
	struct icmp6_filter filt, f2;
	int icmp, udp, off = 6, v;
	socklen_t l;

	test_init(argc, argv);

	ICMP6_FILTER_SETBLOCKALL(&filt);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filt);
	icmp = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	udp = socket(AF_INET6, SOCK_RAW, IPPROTO_UDP);
	if (icmp < 0 || udp < 0)
		return pr_perror("socket(SOCK_RAW)");
	if (setsockopt(icmp, IPPROTO_ICMPV6, ICMP6_FILTER, &filt, sizeof(filt)))
		return pr_perror("ICMP6_FILTER");
	if (setsockopt(udp, IPPROTO_IPV6, IPV6_CHECKSUM, &off, sizeof(off)))
		return pr_perror("IPV6_CHECKSUM");
	if (bind(icmp, (struct sockaddr *)&lo, sizeof(lo)))
		return pr_perror("bind");

	test_daemon();
	test_waitsig();

	l = sizeof(f2);
	if (getsockopt(icmp, IPPROTO_ICMPV6, ICMP6_FILTER, &f2, &l) || memcmp(&f2, &filt, sizeof(filt))) {
		fail("ICMP6_FILTER not kept");
		return 1;
	}
	l = sizeof(v);
	if (getsockopt(udp, IPPROTO_IPV6, IPV6_CHECKSUM, &v, &l) || v != off) {
		fail("IPV6_CHECKSUM %d", v);
		return 1;
	}
	l = sizeof(a);
	if (getsockname(icmp, (struct sockaddr *)&a, &l) || memcmp(&a.sin6_addr, &lo.sin6_addr, 16)) {
		fail("the ICMPv6 socket is not bound to ::1");
		return 1;
	}
	{
		struct icmp6_hdr h = { .icmp6_type = ICMP6_ECHO_REQUEST };
		char buf[256];
		struct pollfd p = { icmp, POLLIN };
		int n, replies = 0;

		h.icmp6_id = htons(0x99);
		h.icmp6_seq = htons(1);
		if (sendto(icmp, &h, sizeof(h), 0, (struct sockaddr *)&lo, sizeof(lo)) != sizeof(h)) {
			fail("sendto");
			return 1;
		}
		if (poll(&p, 1, 5000) != 1) {
			fail("no echo reply");
			return 1;
		}
		usleep(50000);
		while ((n = recv(icmp, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			if (((struct icmp6_hdr *)buf)->icmp6_type != ICMP6_ECHO_REPLY) {
				fail("ICMPv6 type %d got through the filter", ((struct icmp6_hdr *)buf)->icmp6_type);
				return 1;
			}
			replies++;
		}
		if (replies != 1) {
			fail("%d replies", replies);
			return 1;
		}
	}
	pass();
	return 0;
}
