#include "sk_inet.h"

const char *test_doc = "IP-level options of TCP sockets read back after C/R: IP_TOS, IP_TTL, IP_FREEBIND, "
		       "IP_RECVTOS, IP_MTU_DISCOVER on IPv4 (a listener and an established pair), IPV6_TCLASS, "
		       "IPV6_UNICAST_HOPS, IPV6_FREEBIND, IPV6_RECVPKTINFO on IPv6";
const char *test_author = "Stasis developers";

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif

struct iopt {
	int level, opt, val;
	const char *name;
};

static const struct iopt v4[] = {
	{ IPPROTO_IP, IP_TOS, 0x10, "IP_TOS" },
	{ IPPROTO_IP, IP_TTL, 33, "IP_TTL" },
	{ IPPROTO_IP, IP_FREEBIND, 1, "IP_FREEBIND" },
	{ IPPROTO_IP, IP_RECVTOS, 1, "IP_RECVTOS" },
	{ IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT, "IP_MTU_DISCOVER" },
};
static const struct iopt v6[] = {
	{ IPPROTO_IPV6, IPV6_TCLASS, 0x20, "IPV6_TCLASS" },
	{ IPPROTO_IPV6, IPV6_UNICAST_HOPS, 17, "IPV6_UNICAST_HOPS" },
	{ IPPROTO_IPV6, IPV6_FREEBIND, 1, "IPV6_FREEBIND" },
	{ IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO" },
};

static int set_all(int fd, const struct iopt *o, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (sk_setint(fd, o[i].level, o[i].opt, o[i].val))
			return pr_perror("%s", o[i].name);
	return 0;
}

static int check_all(int fd, const struct iopt *o, int n, const char *what)
{
	int i;

	for (i = 0; i < n; i++)
		if (sk_getint(fd, o[i].level, o[i].opt) != o[i].val) {
			fail("%s: %s is %d, expected %d", what, o[i].name, sk_getint(fd, o[i].level, o[i].opt),
			     o[i].val);
			return -1;
		}
	return 0;
}

int main(int argc, char **argv)
{
	int l4, a, b, s6;

	test_init(argc, argv);

	l4 = socket(AF_INET, SOCK_STREAM, 0);
	s6 = socket(AF_INET6, SOCK_STREAM, 0);
	if (l4 < 0 || s6 < 0 || set_all(l4, v4, 5) || set_all(s6, v6, 4) || listen(l4, 2))
		return pr_perror("sockets");
	if (sk_pair(AF_INET, "127.0.0.1", &a, &b) || set_all(a, v4, 5))
		return pr_perror("pair");

	test_daemon();
	test_waitsig();

	if (check_all(l4, v4, 5, "listener") || check_all(a, v4, 5, "established") || check_all(s6, v6, 4, "v6"))
		return 1;
	if (sk_roundtrip(a, b, 4)) {
		fail("the connection after C/R");
		return 1;
	}
	pass();
	return 0;
}
