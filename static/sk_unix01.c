#include "sk_unix.h"

const char *test_doc = "Unix datagram and seqpacket socketpairs with messages of many sizes queued in both "
		       "directions (more datagrams than net.unix.max_dgram_qlen): after C/R each message comes "
		       "back whole, in order, with its exact size";
const char *test_author = "Stasis developers";

#define NR_MSGS 40

static size_t msg_len(int i)
{
	return (size_t)((i * 977) % 3000 + 1);
}

static int fill(int fd, int stream)
{
	int i;

	for (i = 0; i < NR_MSGS; i++)
		if (sk_send(fd, stream, i * 4096, msg_len(i)))
			return -1;
	return 0;
}

static int drain(int fd, int stream)
{
	int i;

	for (i = 0; i < NR_MSGS; i++)
		if (sk_recv_msg(fd, stream, i * 4096, msg_len(i), MSG_DONTWAIT))
			return -1;
	return sk_empty(fd);
}

int main(int argc, char **argv)
{
	int dg[2], sp[2];

	test_init(argc, argv);

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp)) {
		pr_perror("socketpair");
		return 1;
	}
	if (fill(dg[0], 1) || fill(dg[1], 2) || fill(sp[0], 3) || fill(sp[1], 4)) {
		pr_perror("send");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (sk_type(dg[0]) != SOCK_DGRAM || sk_type(sp[1]) != SOCK_SEQPACKET) {
		fail("socket types changed");
		return 1;
	}
	if (drain(dg[1], 1) || drain(dg[0], 2)) {
		fail("datagram queues after C/R");
		return 1;
	}
	if (drain(sp[1], 3) || drain(sp[0], 4)) {
		fail("seqpacket queues after C/R");
		return 1;
	}
	if (sk_send(dg[0], 5, 0, 100) || sk_recv_msg(dg[1], 5, 0, 100, 0) || sk_send(sp[1], 6, 0, 10) ||
	    sk_recv_msg(sp[0], 6, 0, 10, 0) || sk_send(dg[1], 7, 0, 1) || sk_recv_msg(dg[0], 7, 0, 1, 0) ||
	    sk_send(sp[0], 8, 0, 1) || sk_recv_msg(sp[1], 8, 0, 1, 0)) {
		fail("the pairs do not carry new messages both ways");
		return 1;
	}
	pass();
	return 0;
}
