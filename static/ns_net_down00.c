#include "ns_net.h"

const char *test_doc = "A veth pair with one end left down (with an IPv4 and an IPv6 address on it) and the other "
		       "up, lo down: after C/R the down end and lo are still down, the other end is up, the "
		       "addresses are there, and the down end's prefix route is not (the kernel makes it at up)";
const char *test_author = "Stasis developers";

static int check(void)
{
	struct net_link up, down, lo;

	if (net_link_get("dn0", &up) || net_link_get("dn1", &down) || net_link_get("lo", &lo)) {
		fail("a link is gone");
		return -1;
	}
	if (!(up.flags & IFF_UP) || (down.flags & IFF_UP) || (lo.flags & IFF_UP)) {
		fail("flags dn0 %#x dn1 %#x lo %#x: want dn0 up, dn1 and lo down", up.flags, down.flags, lo.flags);
		return -1;
	}
	if (net_has_addr("dn1", AF_INET, "10.60.0.1", 24) != 1 || net_has_addr("dn1", AF_INET6, "2001:db8:60::1", 64) != 1) {
		fail("an address of the down link is lost");
		return -1;
	}
	if (net_has_route4("dn1", "10.60.0.0", "255.255.255.0", "0.0.0.0", -1) != 0) {
		fail("the down link has a prefix route");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);

	if (net_run("ip link set lo down") || net_run("ip link add dn0 type veth peer name dn1") || net_run("ip link set dn0 up") ||
	    net_run("ip addr add 10.60.0.1/24 dev dn1") || net_run("ip addr add 2001:db8:60::1/64 dev dn1 nodad"))
		return 1;
	if (check())
		return 1;

	test_daemon();
	test_waitsig();

	if (check())
		return 1;
	pass();
	return 0;
}
