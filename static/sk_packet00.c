#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "AF_PACKET sockets: SOCK_RAW bound to lo for ETH_P_IP with PACKET_AUXDATA, PACKET_ORIGDEV, "
		       "a promiscuous membership and a fanout group of two; SOCK_DGRAM unbound for ETH_P_ALL with "
		       "PACKET_VERSION 2 and PACKET_RESERVE; every name and option is kept and the bound socket "
		       "still captures a datagram sent on lo after C/R";
const char *test_author = "Stasis developers";

#define FANOUT_ID 0x1234

static int get_int(int fd, int opt)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, SOL_PACKET, opt, &v, &l))
		return -1;
	return v;
}

static int name_of(int fd, struct sockaddr_ll *a)
{
	socklen_t l = sizeof(*a);

	memset(a, 0, sizeof(*a));
	return getsockname(fd, (struct sockaddr *)a, &l);
}

int main(int argc, char **argv)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP) }, a;
	struct packet_mreq mr = { .mr_type = PACKET_MR_PROMISC };
	int raw, raw2, dg, one = 1, v2 = TPACKET_V2, reserve = 64, fan = FANOUT_ID | (PACKET_FANOUT_HASH << 16);
	int lo;

	test_init(argc, argv);

	lo = if_nametoindex("lo");
	if (!lo)
		return pr_perror("if_nametoindex(lo)");
	ll.sll_ifindex = lo;
	mr.mr_ifindex = lo;
	raw = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
	raw2 = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
	dg = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
	if (raw < 0 || raw2 < 0 || dg < 0)
		return pr_perror("socket");
	if (bind(raw, (struct sockaddr *)&ll, sizeof(ll)) || bind(raw2, (struct sockaddr *)&ll, sizeof(ll)))
		return pr_perror("bind");
	if (setsockopt(raw, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) ||
	    setsockopt(raw, SOL_PACKET, PACKET_ORIGDEV, &one, sizeof(one)) ||
	    setsockopt(raw, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) ||
	    setsockopt(dg, SOL_PACKET, PACKET_VERSION, &v2, sizeof(v2)) ||
	    setsockopt(dg, SOL_PACKET, PACKET_RESERVE, &reserve, sizeof(reserve)))
		return pr_perror("setsockopt");
	if (setsockopt(raw, SOL_PACKET, PACKET_FANOUT, &fan, sizeof(fan)) ||
	    setsockopt(raw2, SOL_PACKET, PACKET_FANOUT, &fan, sizeof(fan)))
		return pr_perror("PACKET_FANOUT");
	/* nothing else runs in this network namespace: the queues stay empty */
	{
		char junk[256];

		while (recv(raw, junk, sizeof(junk), MSG_DONTWAIT) > 0 || recv(raw2, junk, sizeof(junk), MSG_DONTWAIT) > 0 ||
		       recv(dg, junk, sizeof(junk), MSG_DONTWAIT) > 0)
			;
	}

	test_daemon();
	test_waitsig();

	if (name_of(raw, &a) || a.sll_ifindex != lo || a.sll_protocol != htons(ETH_P_IP)) {
		fail("raw socket: ifindex %d protocol %x", a.sll_ifindex, ntohs(a.sll_protocol));
		return 1;
	}
	if (name_of(dg, &a) || a.sll_ifindex != 0 || a.sll_protocol != htons(ETH_P_ALL)) {
		fail("dgram socket: ifindex %d protocol %x", a.sll_ifindex, ntohs(a.sll_protocol));
		return 1;
	}
	if (get_int(raw, PACKET_AUXDATA) != 1 || get_int(raw, PACKET_ORIGDEV) != 1 || get_int(raw, PACKET_VERSION) != TPACKET_V1 ||
	    get_int(dg, PACKET_VERSION) != TPACKET_V2 || get_int(dg, PACKET_RESERVE) != reserve ||
	    get_int(dg, PACKET_AUXDATA) != 0) {
		fail("options not kept");
		return 1;
	}
	if (get_int(raw, PACKET_FANOUT) != fan || get_int(raw2, PACKET_FANOUT) != fan || get_int(dg, PACKET_FANOUT) != 0) {
		fail("fanout %x %x, expected %x", get_int(raw, PACKET_FANOUT), get_int(raw2, PACKET_FANOUT), fan);
		return 1;
	}
	/* a UDP datagram on lo reaches one of the fanout pair with the PACKET_AUXDATA cmsg */
	{
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int u = socket(AF_INET, SOCK_DGRAM, 0), got = 0, i;
		char buf[2048], cbuf[256];
		struct pollfd p[2] = { { raw, POLLIN }, { raw2, POLLIN } };

		/* a receiver, so that no ICMP port unreachable (quoting the datagram) follows */
		if (u < 0 || bind(u, (struct sockaddr *)&to, sizeof(to)) ||
		    sendto(u, "capture-me", 10, 0, (struct sockaddr *)&to, sizeof(to)) != 10) {
			fail("sendto on lo");
			return 1;
		}
		if (poll(p, 2, 5000) <= 0) {
			fail("nothing captured");
			return 1;
		}
		for (i = 0; i < 2; i++) {
			struct iovec iov = { buf, sizeof(buf) };
			struct sockaddr_ll from;
			struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1,
					    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
			struct cmsghdr *c;
			int n;

			while ((n = recvmsg(p[i].fd, &m, MSG_DONTWAIT)) > 0) {
				if (n >= 38 && !memcmp(buf + n - 10, "capture-me", 10) && from.sll_pkttype != PACKET_OUTGOING) {
					got++;
					if (p[i].fd == raw) {
						for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
							if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA)
								break;
						if (!c) {
							fail("no PACKET_AUXDATA on the raw socket");
							return 1;
						}
					}
				}
				m.msg_controllen = sizeof(cbuf);
				m.msg_namelen = sizeof(from);
			}
		}
		if (got != 1) {
			fail("captured %d incoming copies, expected 1 (fanout of two sockets)", got);
			return 1;
		}
		close(u);
	}

	pass();
	return 0;
}
