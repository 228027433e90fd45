#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "UDP over IPv4: a bound socket with datagrams queued from three senders (one bound, one "
		       "auto-bound, one connected), a zero-length and a 60000-byte datagram among them; every "
		       "datagram comes back in order with its sender, names and peers are kept, traffic flows after C/R";
const char *test_author = "Stasis developers";

#define NR_DGRAMS 12
#define BIG 60000

static int rcv, snd_bound, snd_auto, snd_conn;
static struct sockaddr_in a_rcv, a_bound, a_auto, a_auto_name, a_conn;

static int dgram_len(int i)
{
	if (i == 3)
		return 0;
	if (i == 7)
		return BIG;
	return 10 + i * 97;
}

static unsigned char pat(int i, int j)
{
	return (unsigned char)(i * 31 + j * 7 + (j >> 8));
}

static int sender_of(int i)
{
	return i % 3 == 0 ? snd_bound : (i % 3 == 1 ? snd_auto : snd_conn);
}

static struct sockaddr_in *addr_of(int i)
{
	return i % 3 == 0 ? &a_bound : (i % 3 == 1 ? &a_auto : &a_conn);
}

static int name_of(int fd, struct sockaddr_in *a, int peer)
{
	socklen_t l = sizeof(*a);

	memset(a, 0, sizeof(*a));
	return peer ? getpeername(fd, (struct sockaddr *)a, &l) : getsockname(fd, (struct sockaddr *)a, &l);
}

static int same(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_family == b->sin_family && a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
}

static int check_name(int fd, const struct sockaddr_in *want, int peer, const char *what)
{
	struct sockaddr_in a;

	if (name_of(fd, &a, peer)) {
		fail("%s: %s", what, peer ? "getpeername" : "getsockname");
		return 1;
	}
	if (!same(&a, want)) {
		fail("%s: %s is %s:%d, expected port %d", what, peer ? "peer" : "name", inet_ntoa(a.sin_addr),
		     ntohs(a.sin_port), ntohs(want->sin_port));
		return 1;
	}
	return 0;
}

static int udp_socket(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		pr_perror("socket");
	return fd;
}

int main(int argc, char **argv)
{
	static unsigned char buf[65536];
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, from;
	int i, j, rcvbuf = 1 << 20, len;
	socklen_t fl;

	test_init(argc, argv);

	rcv = udp_socket();
	snd_bound = udp_socket();
	snd_auto = udp_socket();
	snd_conn = udp_socket();
	if (rcv < 0 || snd_bound < 0 || snd_auto < 0 || snd_conn < 0)
		return 1;
	if (setsockopt(rcv, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)))
		return pr_perror("SO_RCVBUF");
	if (bind(rcv, (struct sockaddr *)&lo, sizeof(lo)) || bind(snd_bound, (struct sockaddr *)&lo, sizeof(lo)))
		return pr_perror("bind");
	if (name_of(rcv, &a_rcv, 0) || name_of(snd_bound, &a_bound, 0))
		return pr_perror("getsockname");
	if (connect(snd_conn, (struct sockaddr *)&a_rcv, sizeof(a_rcv)))
		return pr_perror("connect");

	for (i = 0; i < NR_DGRAMS; i++) {
		len = dgram_len(i);
		for (j = 0; j < len; j++)
			buf[j] = pat(i, j);
		if (sender_of(i) == snd_conn)
			len = send(snd_conn, buf, len, 0);
		else
			len = sendto(sender_of(i), buf, len, 0, (struct sockaddr *)&a_rcv, sizeof(a_rcv));
		if (len != dgram_len(i))
			return pr_perror("send %d", i);
	}
	if (name_of(snd_auto, &a_auto_name, 0) || name_of(snd_conn, &a_conn, 0))
		return pr_perror("getsockname");
	/* bound to the wildcard address by the first sendto: its datagrams come from 127.0.0.1 */
	if (a_auto_name.sin_addr.s_addr != htonl(INADDR_ANY) || !a_auto_name.sin_port)
		return pr_err("the auto-bound sender is bound to %s:%d\n", inet_ntoa(a_auto_name.sin_addr),
			      ntohs(a_auto_name.sin_port));
	a_auto = a_auto_name;
	a_auto.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	test_daemon();
	test_waitsig();

	if (check_name(rcv, &a_rcv, 0, "receiver") || check_name(snd_bound, &a_bound, 0, "bound sender") ||
	    check_name(snd_auto, &a_auto_name, 0, "auto-bound sender") || check_name(snd_conn, &a_conn, 0, "connected sender") ||
	    check_name(snd_conn, &a_rcv, 1, "connected sender"))
		return 1;
	{
		struct sockaddr_in a;

		if (!name_of(rcv, &a, 1) || errno != ENOTCONN) {
			fail("the receiver is connected");
			return 1;
		}
	}

	for (i = 0; i < NR_DGRAMS; i++) {
		fl = sizeof(from);
		len = recvfrom(rcv, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (len != dgram_len(i)) {
			fail("datagram %d: %d bytes, expected %d", i, len, dgram_len(i));
			return 1;
		}
		for (j = 0; j < len; j++)
			if (buf[j] != pat(i, j)) {
				fail("datagram %d: byte %d differs", i, j);
				return 1;
			}
		if (!same(&from, addr_of(i))) {
			fail("datagram %d: from %s:%d, expected port %d", i, inet_ntoa(from.sin_addr), ntohs(from.sin_port),
			     ntohs(addr_of(i)->sin_port));
			return 1;
		}
	}
	if (recv(rcv, buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN) {
		fail("more datagrams than were queued");
		return 1;
	}

	/* traffic both ways after C/R */
	if (sendto(rcv, "pong", 4, 0, (struct sockaddr *)&a_conn, sizeof(a_conn)) != 4 ||
	    send(snd_conn, "ping", 4, 0) != 4 || sendto(snd_auto, "auto", 4, 0, (struct sockaddr *)&a_rcv, sizeof(a_rcv)) != 4) {
		fail("send after C/R");
		return 1;
	}
	if (recv(snd_conn, buf, sizeof(buf), 0) != 4 || memcmp(buf, "pong", 4)) {
		fail("recv on the connected socket after C/R");
		return 1;
	}
	fl = sizeof(from);
	if (recvfrom(rcv, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) != 4 || memcmp(buf, "ping", 4) ||
	    !same(&from, &a_conn)) {
		fail("recv of ping after C/R");
		return 1;
	}
	fl = sizeof(from);
	if (recvfrom(rcv, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) != 4 || memcmp(buf, "auto", 4) ||
	    !same(&from, &a_auto)) {
		fail("recv of auto after C/R");
		return 1;
	}

	pass();
	return 0;
}
