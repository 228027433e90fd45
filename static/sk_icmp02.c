#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "An ICMP ping socket with an echo reply not read yet, dumped with --leave-running: a ping "
		       "socket's queue cannot be read past its first packet without consuming it (a dump that kills "
		       "the tree reads it for real: sk_icmp03), so the dump is refused and the tree goes on; the "
		       "reply is still there";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct icmphdr h = { .type = ICMP_ECHO, .un.echo.sequence = htons(5) };
	struct pollfd p;
	char r[64], rep[256];
	int fd, n;

	test_init(argc, argv);
	fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);
	n = snprintf(r, sizeof(r), "%d %d", (int)getgid(), (int)getgid());
	if (fd < 0 || write(fd, r, n) != n)
		return pr_perror("ping_group_range");
	close(fd);

	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	if (fd < 0)
		return pr_perror("socket");
	if (sendto(fd, &h, sizeof(h), 0, (struct sockaddr *)&lo, sizeof(lo)) != sizeof(h))
		return pr_perror("sendto");
	p.fd = fd;
	p.events = POLLIN;
	if (poll(&p, 1, 5000) != 1)
		return pr_err("no echo reply\n");

	test_daemon();
	test_waitsig();

	if (recv(fd, rep, sizeof(rep), MSG_DONTWAIT) != sizeof(h) || ((struct icmphdr *)rep)->type != ICMP_ECHOREPLY) {
		fail("the queued echo reply");
		return 1;
	}
	pass();
	return 0;
}
