#include <net/if.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "ns_join.h"

#ifndef TEST_DOC /* ns_join_net_ext00 includes this file with its own */
#define TEST_DOC "Restored with --join-ns net:FILE into a network namespace the harness made (lo up, " \
		 "net.ipv4.ip_default_ttl 93): after C/R the test is in it, sees its settings, and its unix " \
		 "socket bound to an abstract name (abstract names are per network namespace) was made " \
		 "there: a socket made after the restore reaches it by that name"
#endif
const char *test_doc = TEST_DOC;
const char *test_author = "Stasis developers";

#define TTL_PATH "/proc/sys/net/ipv4/ip_default_ttl"
#define TTL 93

static int read_ttl(void)
{
	int ttl = -1;
	FILE *f = fopen(TTL_PATH, "r");

	if (!f)
		return -1;
	if (fscanf(f, "%d", &ttl) != 1)
		ttl = -1;
	fclose(f);
	return ttl;
}

static int lo_up(void)
{
	struct ifreq ifr = {};
	int s = socket(AF_INET, SOCK_DGRAM, 0), r;

	if (s < 0)
		return -1;
	strcpy(ifr.ifr_name, "lo");
	r = ioctl(s, SIOCGIFFLAGS, &ifr);
	close(s);
	return r ? -1 : !!(ifr.ifr_flags & IFF_UP);
}

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int sk, peer, where, ttl0, up0, ttl, up;
	socklen_t len;
	char buf[16];
	ino_t ino;

	test_init(argc, argv);

	if (ns_ino("net", &ino))
		return 1;
	ttl0 = read_ttl();
	up0 = lo_up();
	if (ttl0 == TTL) {
		pr_err("the test starts with the joined namespace's ttl %d\n", TTL);
		return 1;
	}
	/* an abstract name: "\0zdtm-join-net-<pid>" */
	len = offsetof(struct sockaddr_un, sun_path) + 1 +
	      snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "zdtm-join-net-%d", getpid());
	sk = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (sk < 0 || bind(sk, (struct sockaddr *)&addr, len))
		return pr_perror("bind an abstract unix socket");

	test_daemon();
	test_waitsig();

	where = where_now("net", ino);
	if (where < 0)
		return 1;
	ttl = read_ttl();
	up = lo_up();
	if (where && (ttl != TTL || up != 1)) {
		errno = 0;
		fail("in the joined network namespace ttl %d lo up %d, not %d 1", ttl, up, TTL);
		return 1;
	}
	if (!where && (ttl != ttl0 || up != up0)) {
		errno = 0;
		fail("ttl %d lo up %d, was %d %d", ttl, up, ttl0, up0);
		return 1;
	}
	peer = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (peer < 0 || sendto(peer, "ping", 4, 0, (struct sockaddr *)&addr, len) != 4) {
		fail("a socket made now cannot reach the test's by its abstract name: the restored socket is not in "
		     "the test's network namespace");
		return 1;
	}
	if (recv(sk, buf, sizeof(buf), MSG_DONTWAIT) != 4 || memcmp(buf, "ping", 4)) {
		fail("the test's socket did not get what was sent to its name");
		return 1;
	}
	close(peer);
	pass();
	return 0;
}
