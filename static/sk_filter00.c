#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "A classic BPF filter (SO_ATTACH_FILTER, locked with SO_LOCK_FILTER) on a UDP socket that "
		       "keeps only short datagrams, with the short ones that passed queued at C/R: the queue comes "
		       "back, the filter reads back the same (SO_GET_FILTER) and still drops long datagrams after";
const char *test_author = "Stasis developers";

#ifndef SO_LOCK_FILTER
#define SO_LOCK_FILTER 44
#endif

/* accept a datagram of at most 20 bytes (with or without its UDP header), drop the rest */
static struct sock_filter code[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
	BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 20, 1, 0),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};
#define NR_INSNS (int)(sizeof(code) / sizeof(code[0]))

static int send_mix(int s, const struct sockaddr_in *to, int round)
{
	char buf[64];
	int i;

	for (i = 0; i < 6; i++) {
		int n = i % 2 ? 40 : 4;

		memset(buf, 'a' + round * 6 + i, n);
		if (sendto(s, buf, n, 0, (const struct sockaddr *)to, sizeof(*to)) != n)
			return pr_perror("sendto");
	}
	return 0;
}

static int check_mix(int r, int round)
{
	char buf[64];
	int i, n;

	for (i = 0; i < 6; i += 2) {
		n = recv(r, buf, sizeof(buf), MSG_DONTWAIT);
		if (n != 4 || buf[0] != 'a' + round * 6 + i) {
			fail("round %d: datagram %d: %d bytes '%c'", round, i, n, n > 0 ? buf[0] : '?');
			return 1;
		}
	}
	if (recv(r, buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN) {
		fail("round %d: a datagram the filter should have dropped", round);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, ar;
	struct sock_fprog prog = { NR_INSNS, code };
	struct sock_filter got[16];
	int r, s, one = 1, v;
	socklen_t l = sizeof(ar);

	test_init(argc, argv);

	r = socket(AF_INET, SOCK_DGRAM, 0);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (r < 0 || s < 0)
		return pr_perror("socket");
	if (bind(r, (struct sockaddr *)&lo, sizeof(lo)) || getsockname(r, (struct sockaddr *)&ar, &l))
		return pr_perror("bind");
	if (setsockopt(r, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) ||
	    setsockopt(r, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof(one)))
		return pr_perror("SO_ATTACH_FILTER");
	if (send_mix(s, &ar, 0))
		return 1;

	test_daemon();
	test_waitsig();

	l = NR_INSNS + 10;
	if (getsockopt(r, SOL_SOCKET, SO_GET_FILTER, got, &l) || l != NR_INSNS || memcmp(got, code, sizeof(code))) {
		fail("SO_GET_FILTER: %d instructions", (int)l);
		return 1;
	}
	l = sizeof(v);
	if (getsockopt(r, SOL_SOCKET, SO_LOCK_FILTER, &v, &l) || v != 1) {
		fail("SO_LOCK_FILTER %d", v);
		return 1;
	}
	if (setsockopt(r, SOL_SOCKET, SO_DETACH_FILTER, &one, sizeof(one)) != -1 || errno != EPERM) {
		fail("the locked filter could be detached");
		return 1;
	}
	if (check_mix(r, 0) || send_mix(s, &ar, 1) || check_mix(r, 1))
		return 1;
	pass();
	return 0;
}
