#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "A raw socket with a packet queued to read: a raw socket's queue cannot be read past its "
		       "first packet without consuming it, so the dump is refused and the tree goes on with it";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct pollfd p;
	char buf[256];
	int r, s;

	test_init(argc, argv);

	r = socket(AF_INET, SOCK_RAW, 253); /* an experimental protocol: nobody else answers it */
	s = socket(AF_INET, SOCK_RAW, 253);
	if (r < 0 || s < 0)
		return pr_perror("socket");
	if (sendto(s, "raw payload", 11, 0, (struct sockaddr *)&lo, sizeof(lo)) != 11)
		return pr_perror("sendto");
	p.fd = r;
	p.events = POLLIN;
	if (poll(&p, 1, 5000) != 1)
		return pr_err("nothing queued\n");

	test_daemon();
	test_waitsig();

	if (recv(r, buf, sizeof(buf), MSG_DONTWAIT) != 31 || memcmp(buf + 20, "raw payload", 11)) {
		fail("the queued packet");
		return 1;
	}
	pass();
	return 0;
}
