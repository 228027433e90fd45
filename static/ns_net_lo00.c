#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "zdtmtst.h"

const char *test_doc = "lo of the test's own network namespace with an MTU of its own: after C/R lo is up "
		       "with that MTU and a UDP datagram sent to 127.0.0.1 arrives (the namespace works)";
const char *test_author = "Stasis developers";

#define MTU 12345

static int lo(int sk, unsigned long req, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	strcpy(ifr->ifr_name, "lo");
	return ioctl(sk, req, ifr);
}

static int loopback_works(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	char buf[8] = "";
	int rx, tx, ret = -1;

	rx = socket(AF_INET, SOCK_DGRAM, 0);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	if (rx < 0 || tx < 0 || bind(rx, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(rx, (struct sockaddr *)&a, &len))
		goto out;
	if (sendto(tx, "ping", 4, 0, (struct sockaddr *)&a, sizeof(a)) != 4)
		goto out;
	if (recv(rx, buf, sizeof(buf), 0) != 4 || memcmp(buf, "ping", 4))
		goto out;
	ret = 0;
out:
	if (ret)
		pr_perror("UDP over lo");
	close(rx);
	close(tx);
	return ret;
}

int main(int argc, char **argv)
{
	struct ifreq ifr;
	int sk;

	test_init(argc, argv);

	sk = socket(AF_INET, SOCK_DGRAM, 0);
	if (sk < 0) {
		pr_perror("socket");
		return 1;
	}
	lo(sk, SIOCGIFMTU, &ifr);
	ifr.ifr_mtu = MTU;
	if (ioctl(sk, SIOCSIFMTU, &ifr)) {
		pr_perror("SIOCSIFMTU");
		return 1;
	}
	close(sk);
	if (loopback_works())
		return 1;

	test_daemon();
	test_waitsig();

	sk = socket(AF_INET, SOCK_DGRAM, 0);
	if (sk < 0 || lo(sk, SIOCGIFFLAGS, &ifr)) {
		fail("SIOCGIFFLAGS");
		return 1;
	}
	if (!(ifr.ifr_flags & IFF_UP)) {
		errno = 0;
		fail("lo is down after C/R (flags %#x)", ifr.ifr_flags);
		return 1;
	}
	if (lo(sk, SIOCGIFMTU, &ifr) || ifr.ifr_mtu != MTU) {
		fail("lo's MTU is %d after C/R, was %d", ifr.ifr_mtu, MTU);
		return 1;
	}
	close(sk);
	if (loopback_works()) {
		fail("the loopback does not carry datagrams after C/R");
		return 1;
	}
	pass();
	return 0;
}
