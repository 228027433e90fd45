#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "A dump refused after it has read a UDP queue (a corked socket further on): the dump reads "
		       "queues for real when it is to kill the tree, so the refusal must put every datagram back, "
		       "in order, from its sender, before the tree goes on; a filter on the socket is still there";
const char *test_author = "Stasis developers";

#define NR 6

/* datagrams of at most 40 bytes (with or without the UDP header) pass */
static struct sock_filter code[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
	BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 40, 1, 0),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

int main(int argc, char **argv)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, ar, as[2], from;
	int r, s[2], corked, i, n, one = 1;
	socklen_t l;
	char buf[64], want[32];

	test_init(argc, argv);

	r = socket(AF_INET, SOCK_DGRAM, 0);
	s[0] = socket(AF_INET, SOCK_DGRAM, 0);
	s[1] = socket(AF_INET, SOCK_DGRAM, 0);
	corked = socket(AF_INET, SOCK_DGRAM, 0); /* the highest fd: dumped after r */
	if (r < 0 || s[0] < 0 || s[1] < 0 || corked < 0)
		return pr_perror("socket");
	l = sizeof(ar);
	if (bind(r, (struct sockaddr *)&lo, sizeof(lo)) || getsockname(r, (struct sockaddr *)&ar, &l))
		return pr_perror("bind");
	for (i = 0; i < 2; i++) {
		l = sizeof(as[i]);
		if (bind(s[i], (struct sockaddr *)&lo, sizeof(lo)) || getsockname(s[i], (struct sockaddr *)&as[i], &l))
			return pr_perror("bind");
	}
	{
		struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };

		if (setsockopt(r, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
			return pr_perror("SO_ATTACH_FILTER");
	}
	for (i = 0; i < NR; i++) {
		n = snprintf(buf, sizeof(buf), "datagram %d", i);
		if (sendto(s[i % 2], buf, n, 0, (struct sockaddr *)&ar, sizeof(ar)) != n)
			return pr_perror("sendto");
	}
	if (setsockopt(corked, IPPROTO_UDP, UDP_CORK, &one, sizeof(one)) ||
	    sendto(corked, "pending", 7, 0, (struct sockaddr *)&ar, sizeof(ar)) != 7)
		return pr_perror("corked");

	test_daemon();
	test_waitsig();

	for (i = 0; i < NR; i++) {
		l = sizeof(from);
		n = recvfrom(r, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &l);
		snprintf(want, sizeof(want), "datagram %d", i);
		if (n != (int)strlen(want) || memcmp(buf, want, n)) {
			fail("datagram %d: %d bytes", i, n);
			return 1;
		}
		if (from.sin_port != as[i % 2].sin_port) {
			fail("datagram %d from port %d, expected %d", i, ntohs(from.sin_port), ntohs(as[i % 2].sin_port));
			return 1;
		}
	}
	if (recv(r, buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN) {
		fail("more datagrams than were queued");
		return 1;
	}
	/* the filter is back: a long datagram is dropped, a short one passes */
	memset(buf, 'x', sizeof(buf));
	if (sendto(s[0], buf, 60, 0, (struct sockaddr *)&ar, sizeof(ar)) != 60 ||
	    sendto(s[0], "short", 5, 0, (struct sockaddr *)&ar, sizeof(ar)) != 5 ||
	    recv(r, buf, sizeof(buf), MSG_DONTWAIT) != 5 || memcmp(buf, "short", 5)) {
		fail("the filter after the refused dump");
		return 1;
	}
	pass();
	return 0;
}
