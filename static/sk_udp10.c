#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Three UDP sockets of one SO_REUSEPORT group with datagrams queued, spread over them by the "
		       "group's hash (64 senders): after C/R each member holds exactly the datagrams it held (the "
		       "group's hash would spread datagrams sent again anywhere: the members are bound in another "
		       "order than their fds), each with its sender";
const char *test_author = "Stasis developers";

#define NR_MEMBERS 3
#define NR_SENDERS 64

static int members[NR_MEMBERS];
static struct {
	int n;
	unsigned short port[NR_SENDERS];
	unsigned char tag[NR_SENDERS];
} held[NR_MEMBERS];

int main(int argc, char **argv)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, ag, from;
	int i, j, one = 1, off = 0, minus = -1, n, total = 0;
	socklen_t l;
	unsigned char buf[64];

	test_init(argc, argv);

	for (i = 0; i < NR_MEMBERS; i++) {
		members[i] = socket(AF_INET, SOCK_DGRAM, 0);
		if (members[i] < 0 || setsockopt(members[i], SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)))
			return pr_perror("socket");
	}
	/* bound in the reverse order of their fds: the group's order is not the fds' */
	for (i = NR_MEMBERS - 1; i >= 0; i--) {
		if (bind(members[i], (struct sockaddr *)(i != NR_MEMBERS - 1 ? &ag : &lo), sizeof(lo)))
			return pr_perror("bind");
		l = sizeof(ag);
		if (i == NR_MEMBERS - 1 && getsockname(members[i], (struct sockaddr *)&ag, &l))
			return pr_perror("getsockname");
	}
	for (i = 0; i < NR_SENDERS; i++) {
		int s = socket(AF_INET, SOCK_DGRAM, 0);

		buf[0] = i;
		if (s < 0 || sendto(s, buf, 1 + i % 7, 0, (struct sockaddr *)&ag, sizeof(ag)) != 1 + i % 7)
			return pr_perror("sendto");
		close(s);
	}
	/* what each member holds, peeked (non-empty datagrams: peeking leaves them as they are) */
	for (i = 0; i < NR_MEMBERS; i++) {
		if (setsockopt(members[i], SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)))
			return pr_perror("SO_PEEK_OFF");
		while (1) {
			l = sizeof(from);
			n = recvfrom(members[i], buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT, (struct sockaddr *)&from, &l);
			if (n < 0)
				break;
			held[i].port[held[i].n] = from.sin_port;
			held[i].tag[held[i].n++] = buf[0];
		}
		if (setsockopt(members[i], SOL_SOCKET, SO_PEEK_OFF, &minus, sizeof(minus)))
			return pr_perror("SO_PEEK_OFF -1");
		total += held[i].n;
	}
	if (total != NR_SENDERS)
		return pr_err("%d datagrams queued, expected %d\n", total, NR_SENDERS);
	for (i = 0; i < NR_MEMBERS; i++)
		if (!held[i].n)
			return pr_err("member %d got nothing: the hash did not spread\n", i);

	test_daemon();
	test_waitsig();

	for (i = 0; i < NR_MEMBERS; i++) {
		for (j = 0; j < held[i].n; j++) {
			l = sizeof(from);
			n = recvfrom(members[i], buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &l);
			if (n != 1 + held[i].tag[j] % 7 || buf[0] != held[i].tag[j] || from.sin_port != held[i].port[j]) {
				fail("member %d datagram %d: %d bytes tag %d, expected tag %d", i, j, n, n > 0 ? buf[0] : -1,
				     held[i].tag[j]);
				return 1;
			}
		}
		if (recv(members[i], buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN) {
			fail("member %d has more than it held", i);
			return 1;
		}
	}
	pass();
	return 0;
}
