#include "ns_net.h"

const char *test_doc = "A dummy device (an ifb device on a kernel without dummy: made the same way, with no "
		       "settings of its own) in the test's own network namespace, up, with an MTU, a MAC (dummy "
		       "only: ifb cannot change it), IPv4 and IPv6 addresses and a route through it: after C/R it is "
		       "a device of that kind at its ifindex with all of them";

#define DEV "zdm0"
#define MAC "02:00:00:00:d0:01"

static const char *kind = "dummy";
const char *test_author = "Stasis developers";

static int check(struct net_link *d0)
{
	struct net_link d;

	if (net_link_get(DEV, &d)) {
		fail("the device is gone");
		return -1;
	}
	if (strcmp(d.kind, kind) || !(d.flags & IFF_UP) || d.mtu != 1380 ||
	    (!strcmp(kind, "dummy") && strcmp(net_mac_str(d.mac, d.maclen), MAC))) {
		fail("%s: kind %s (want %s) flags %#x mtu %d mac %s", DEV, d.kind, kind, d.flags, d.mtu,
		     net_mac_str(d.mac, d.maclen));
		return -1;
	}
	if (d0->index && (d.index != d0->index || memcmp(d.mac, d0->mac, 6))) {
		fail("%s: ifindex %d, was %d; MAC %s", DEV, d.index, d0->index, net_mac_str(d.mac, 6));
		return -1;
	}
	*d0 = d;
	if (net_has_addr(DEV, AF_INET, "10.95.0.1", 24) != 1 || net_has_addr(DEV, AF_INET6, "2001:db8:95::1", 64) != 1 ||
	    net_has_route4(DEV, "10.96.0.0", "255.255.0.0", "10.95.0.9", -1) != 1) {
		fail("%s lost an address or its route", DEV);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct net_link d = {};

	test_init(argc, argv);

	if (system("ip link add " DEV " type dummy 2>/dev/null")) {
		kind = "ifb";
		test_msg("no dummy devices here: an ifb device instead\n");
		if (net_run("ip link add " DEV " type ifb"))
			return 1;
	} else if (net_run("ip link set " DEV " address " MAC)) {
		return 1;
	}
	if (net_run("ip link set " DEV " mtu 1380") ||
	    net_run("ip link set " DEV " up") || net_run("ip addr add 10.95.0.1/24 dev " DEV) ||
	    net_run("ip addr add 2001:db8:95::1/64 dev " DEV " nodad") ||
	    net_run("ip route add 10.96.0.0/16 via 10.95.0.9 dev " DEV))
		return 1;
	if (check(&d))
		return 1;

	test_daemon();
	test_waitsig();

	if (check(&d))
		return 1;
	pass();
	return 0;
}
