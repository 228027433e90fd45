#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "A UDP socket corked (UDP_CORK) with part of a datagram written: the pending data cannot be "
		       "read back, so the dump is refused and the tree goes on; it still sends the whole datagram";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, ar;
	int r, s, one = 1, zero = 0;
	socklen_t l = sizeof(ar);
	char buf[64];

	test_init(argc, argv);

	r = socket(AF_INET, SOCK_DGRAM, 0);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (r < 0 || s < 0)
		return pr_perror("socket");
	if (bind(r, (struct sockaddr *)&lo, sizeof(lo)) || getsockname(r, (struct sockaddr *)&ar, &l))
		return pr_perror("bind");
	if (setsockopt(s, IPPROTO_UDP, UDP_CORK, &one, sizeof(one)))
		return pr_perror("UDP_CORK");
	if (sendto(s, "half a ", 7, 0, (struct sockaddr *)&ar, sizeof(ar)) != 7)
		return pr_perror("sendto");

	test_daemon();
	test_waitsig();

	if (sendto(s, "datagram", 8, 0, (struct sockaddr *)&ar, sizeof(ar)) != 8 ||
	    setsockopt(s, IPPROTO_UDP, UDP_CORK, &zero, sizeof(zero))) {
		fail("finishing the corked datagram");
		return 1;
	}
	if (recv(r, buf, sizeof(buf), MSG_DONTWAIT) != 15 || memcmp(buf, "half a datagram", 15)) {
		fail("the corked datagram");
		return 1;
	}
	pass();
	return 0;
}
