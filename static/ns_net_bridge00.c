#include "ns_net.h"

const char *test_doc = "A bridge in the test's own network namespace (STP off, a forward delay and ageing time "
		       "of its own) with two veth ends as its ports (one with a cost, priority, hairpin and no "
		       "learning of its own) and an address on the bridge: after C/R the ports are in the bridge "
		       "with their settings, the bridge has its MAC, MTU and address, and the peers are "
		       "still peers";
const char *test_author = "Stasis developers";

static int check(struct net_link *br0)
{
	struct net_link br, p0, p1, q0, q1;

	if (net_link_get("zbr0", &br) || net_link_get("bp0", &p0) || net_link_get("bp1", &p1) ||
	    net_link_get("bq0", &q0) || net_link_get("bq1", &q1)) {
		fail("a link is gone");
		return -1;
	}
	if (strcmp(br.kind, "bridge") || p0.master != br.index || q0.master != br.index || p1.master || q1.master) {
		fail("bridge %s #%d; masters of bp0 #%d, bq0 #%d, bp1 #%d, bq1 #%d", br.kind, br.index, p0.master,
		     q0.master, p1.master, q1.master);
		return -1;
	}
	if (p0.link != p1.index || q0.link != q1.index) {
		fail("the veth peers changed");
		return -1;
	}
	if (br0->index && (br.index != br0->index || br.mtu != br0->mtu || memcmp(br.mac, br0->mac, 6))) {
		fail("bridge #%d mtu %d mac %s; was #%d mtu %d", br.index, br.mtu, net_mac_str(br.mac, 6), br0->index,
		     br0->mtu);
		return -1;
	}
	*br0 = br;
	if (net_run("ip -d link show bq0 | grep -q 'priority 9 cost 77 hairpin on .*learning off'")) {
		fail("the bridge port bq0 lost its settings");
		return -1;
	}
	if (net_has_addr("zbr0", AF_INET, "10.80.0.1", 24) != 1 || !(br.flags & IFF_UP)) {
		fail("the bridge lost its address or is down");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct net_link br = {};

	test_init(argc, argv);

	if (net_run("ip link set lo up") ||
	    net_run("ip link add zbr0 type bridge stp_state 0 forward_delay 500 ageing_time 12345") ||
	    net_run("ip link add bp0 type veth peer name bp1") || net_run("ip link add bq0 type veth peer name bq1") ||
	    net_run("ip link set bp0 master zbr0") || net_run("ip link set bq0 master zbr0") ||
	    net_run("ip link set bq0 type bridge_slave cost 77 priority 9 learning off hairpin on") ||
	    net_run("ip link set zbr0 mtu 1450") || net_run("ip addr add 10.80.0.1/24 dev zbr0") ||
	    net_run("ip link set zbr0 up") || net_run("ip link set bp0 up") || net_run("ip link set bp1 up") ||
	    net_run("ip link set bq0 up"))
		return 1;
	if (check(&br))
		return 1;

	test_daemon();
	test_waitsig();

	if (check(&br))
		return 1;
	pass();
	return 0;
}
