#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "A classic BPF filter on a SOCK_DGRAM packet socket bound to lo that passes only UDP "
		       "datagrams to one port: the filter reads back the same after C/R and still filters (a "
		       "datagram to another port is not captured, one to the port is)";
const char *test_author = "Stasis developers";

#define PORT 4711

/* IPv4 header at offset 0: protocol UDP (byte 9) and destination port PORT (IHL 5: bytes 22-23) */
static struct sock_filter code[] = {
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 3),
	BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 22),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PORT, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};
#define NR_INSNS (int)(sizeof(code) / sizeof(code[0]))

static int captured(int pk, int port)
{
	char buf[2048];
	int n, got = 0;
	struct pollfd p = { pk, POLLIN };

	poll(&p, 1, 300);
	while ((n = recv(pk, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		if (n >= 28 && ntohs(*(unsigned short *)(buf + 22)) == port)
			got++;
	return got;
}

int main(int argc, char **argv)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP) };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sock_fprog prog = { NR_INSNS, code };
	struct sock_filter got[16];
	int pk, u, u2;
	socklen_t l;
	char junk[2048];

	test_init(argc, argv);

	ll.sll_ifindex = if_nametoindex("lo");
	pk = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	u = socket(AF_INET, SOCK_DGRAM, 0);
	u2 = socket(AF_INET, SOCK_DGRAM, 0);
	if (pk < 0 || u < 0 || u2 < 0)
		return pr_perror("socket");
	if (bind(pk, (struct sockaddr *)&ll, sizeof(ll)) || setsockopt(pk, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		return pr_perror("bind/SO_ATTACH_FILTER");
	to.sin_port = htons(PORT);
	if (bind(u, (struct sockaddr *)&to, sizeof(to)))
		return pr_perror("bind udp");
	to.sin_port = htons(PORT + 1);
	if (bind(u2, (struct sockaddr *)&to, sizeof(to)))
		return pr_perror("bind udp");
	while (recv(pk, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;

	test_daemon();
	test_waitsig();

	l = NR_INSNS + 10;
	if (getsockopt(pk, SOL_SOCKET, SO_GET_FILTER, got, &l) || l != NR_INSNS || memcmp(got, code, sizeof(code))) {
		fail("SO_GET_FILTER: %d instructions", (int)l);
		return 1;
	}
	to.sin_port = htons(PORT + 1);
	if (sendto(u, "other", 5, 0, (struct sockaddr *)&to, sizeof(to)) != 5 || captured(pk, PORT + 1) != 0) {
		fail("a datagram to another port was captured");
		return 1;
	}
	to.sin_port = htons(PORT);
	if (sendto(u2, "mine", 4, 0, (struct sockaddr *)&to, sizeof(to)) != 4 || captured(pk, PORT) != 1) {
		fail("the datagram to port %d was not captured once", PORT);
		return 1;
	}
	pass();
	return 0;
}
