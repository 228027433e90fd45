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

const char *test_doc = "An extra IPv4 address on lo (alias lo:1) in the test's own network namespace: the "
		       "engine restores only lo's own addresses yet, so the dump must be refused with the tree "
		       "left running; afterwards the address is still there";
const char *test_author = "Stasis developers";

#define ADDR "10.77.0.1"

static int get_addr(int sk, struct in_addr *out)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo:1");
	if (ioctl(sk, SIOCGIFADDR, &ifr))
		return -1;
	*out = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in *sin;
	struct in_addr got;
	struct ifreq ifr;
	int sk;

	test_init(argc, argv);

	sk = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo:1");
	sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, ADDR, &sin->sin_addr);
	if (sk < 0 || ioctl(sk, SIOCSIFADDR, &ifr)) {
		pr_perror("SIOCSIFADDR lo:1 " ADDR);
		return 1;
	}
	close(sk);  /* no socket: the address itself is what the dump must refuse */

	test_daemon();
	test_waitsig();

	sk = socket(AF_INET, SOCK_DGRAM, 0);
	if (sk < 0 || get_addr(sk, &got) || strcmp(inet_ntoa(got), ADDR)) {
		fail("lo:1 lost " ADDR);
		return 1;
	}
	pass();
	return 0;
}
