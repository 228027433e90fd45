#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "zdtmtst.h"

/*
 * Built three times, as upstream's build does: socket-tcp (IPv4), socket-tcp6 (-DZDTM_IPV6: over ::1) and
 * socket-tcp4v6 (-DZDTM_IPV4V6: a dual-stack IPv6 listener, an IPv4 client, an IPv4-mapped connection).
 */
#if defined(ZDTM_IPV4V6)
#define SRV_FAMILY AF_INET6
#define CLI_FAMILY AF_INET
#define CLI_ADDR "127.0.0.1"
#elif defined(ZDTM_IPV6)
#define SRV_FAMILY AF_INET6
#define CLI_FAMILY AF_INET6
#define CLI_ADDR "::1"
#else
#define SRV_FAMILY AF_INET
#define CLI_FAMILY AF_INET
#define CLI_ADDR "127.0.0.1"
#endif

const char *test_doc = "An established TCP connection (IPv4, IPv6 or IPv4-mapped, by build) with data queued both "
		       "ways and some left unread: after C/R every byte comes back in order, the addresses are the "
		       "same and the connection still carries data";
const char *test_author = "Stasis developers";

#define BIG (200 * 1024)

static int names(int sk, struct sockaddr_storage *self, struct sockaddr_storage *peer)
{
	socklen_t l1 = sizeof(*self), l2 = sizeof(*peer);

	memset(self, 0, sizeof(*self));
	memset(peer, 0, sizeof(*peer));
	return getsockname(sk, (struct sockaddr *)self, &l1) || getpeername(sk, (struct sockaddr *)peer, &l2);
}

int main(int argc, char **argv)
{
	static uint8_t big[BIG], got[BIG];
	struct sockaddr_storage s1, p1, s2, p2, x, y;
	int srv, cli, acc, port = 8880, sent, n, off;
	uint32_t crc;

	test_init(argc, argv);

	srv = tcp_init_server(SRV_FAMILY, &port);
	if (srv < 0)
		return 1;
	cli = tcp_init_client(CLI_FAMILY, CLI_ADDR, port);
	if (cli < 0)
		return 1;
	acc = tcp_accept_server(srv);
	if (acc < 0)
		return 1;
	close(srv);
	if (names(cli, &s1, &p1) || names(acc, &s2, &p2)) {
		pr_perror("getsockname/getpeername");
		return 1;
	}
	if (SRV_FAMILY != CLI_FAMILY && s2.ss_family != AF_INET6) {
		pr_err("the accepted end of the IPv4 client is not an IPv6 socket\n");
		return 1;
	}
	/* client -> server: more than fits at once, written non-blocking (part stays in our send queue) */
	crc = ~0;
	datagen(big, BIG, &crc);
	set_nonblock(cli, 1);
	for (sent = 0; sent < BIG; sent += n) {
		n = write(cli, big + sent, BIG - sent);
		if (n <= 0)
			break;
	}
	set_nonblock(cli, 0);
	if (sent <= 0 || write(acc, "server->client", 14) != 14) {
		pr_perror("write");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (names(cli, &x, &y) || memcmp(&x, &s1, sizeof(x)) || memcmp(&y, &p1, sizeof(y))) {
		fail("the client's addresses changed");
		return 1;
	}
	if (names(acc, &x, &y) || memcmp(&x, &s2, sizeof(x)) || memcmp(&y, &p2, sizeof(y))) {
		fail("the accepted end's addresses changed");
		return 1;
	}
	memset(got, 0, 14);
	if (read_data(cli, got, 14) || memcmp(got, "server->client", 14)) {
		fail("the data queued for the client");
		return 1;
	}
	/* the rest of the big buffer goes after C/R; the server reads it all */
	if (sent < BIG && write_data(cli, big + sent, BIG - sent)) {
		fail("write the rest after C/R");
		return 1;
	}
	for (off = 0; off < BIG; off += n) {
		n = read(acc, got + off, BIG - off);
		if (n <= 0) {
			fail("read at %d of %d", off, BIG);
			return 1;
		}
	}
	crc = ~0;
	if (datachk(got, BIG, &crc)) {
		fail("the data client -> server is not what was sent");
		return 1;
	}
	if (write(acc, "again", 5) != 5 || read_data(cli, got, 5) || memcmp(got, "again", 5)) {
		fail("no data server -> client after C/R");
		return 1;
	}
	pass();
	return 0;
}
