#include "ns_net.h"

const char *test_doc = "A veth pair with both ends in the test's own network namespace, both up, with an IPv4 "
		       "address on each end: after C/R both ends have their ifindexes, names, peers and addresses, "
		       "and a UDP datagram from one end's address reaches the other's";
const char *test_author = "Stasis developers";

static int check(struct net_link *a0, struct net_link *b0, int after)
{
	struct net_link a, b;

	if (net_link_get("sv0", &a) || net_link_get("sv1", &b)) {
		fail("a veth end is gone");
		return -1;
	}
	if (strcmp(a.kind, "veth") || strcmp(b.kind, "veth")) {
		fail("kinds %s/%s, not veth", a.kind, b.kind);
		return -1;
	}
	if (a.link != b.index || b.link != a.index) {
		fail("sv0 (#%d) peer #%d, sv1 (#%d) peer #%d: not each other's peers", a.index, a.link, b.index,
		     b.link);
		return -1;
	}
	if (!(a.flags & IFF_UP) || !(b.flags & IFF_UP)) {
		fail("flags %#x / %#x: not both up", a.flags, b.flags);
		return -1;
	}
	if (after && (a.index != a0->index || b.index != b0->index || memcmp(a.mac, a0->mac, 6) ||
		      memcmp(b.mac, b0->mac, 6) || a.mtu != a0->mtu || b.mtu != b0->mtu)) {
		fail("sv0 #%d mtu %d %s, sv1 #%d mtu %d: were #%d mtu %d %s, #%d mtu %d", a.index, a.mtu,
		     net_mac_str(a.mac, a.maclen), b.index, b.mtu, a0->index, a0->mtu, net_mac_str(a0->mac, 6),
		     b0->index, b0->mtu);
		return -1;
	}
	*a0 = a;
	*b0 = b;
	if (net_has_addr("sv0", AF_INET, "10.10.0.1", 24) != 1 || net_has_addr("sv1", AF_INET, "10.10.0.2", 24) != 1) {
		fail("an address of the veth pair is lost");
		return -1;
	}
	if (net_udp_ping("10.10.0.1", "10.10.0.2", 7001) != 1 || net_udp_ping("10.10.0.2", "10.10.0.1", 7002) != 1) {
		fail("a datagram between the veth ends' addresses did not arrive");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct net_link a, b;

	test_init(argc, argv);

	if (net_run("ip link set lo up") || net_run("ip link add sv0 type veth peer name sv1") ||
	    net_run("ip addr add 10.10.0.1/24 dev sv0") || net_run("ip addr add 10.10.0.2/24 dev sv1") ||
	    net_run("ip link set sv0 up") || net_run("ip link set sv1 up"))
		return 1;
	if (check(&a, &b, 0))
		return 1;

	test_daemon();
	test_waitsig();

	if (check(&a, &b, 1))
		return 1;
	pass();
	return 0;
}
