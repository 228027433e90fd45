#include "ns_net.h"

const char *test_doc = "A macvlan device (bridge mode) over one end of a veth pair in the test's own network "
		       "namespace, with an address: after C/R it is a macvlan over the same lower device with its "
		       "MAC and address";
const char *test_author = "Stasis developers";

static int check(struct net_link *mv0)
{
	struct net_link mv, low;

	if (net_link_get("zmv0", &mv) || net_link_get("ml0", &low)) {
		fail("a link is gone");
		return -1;
	}
	if (strcmp(mv.kind, "macvlan") || mv.link != low.index || !(mv.flags & IFF_UP)) {
		fail("zmv0: kind %s over #%d (ml0 is #%d), flags %#x", mv.kind, mv.link, low.index, mv.flags);
		return -1;
	}
	if (mv0->index && (mv.index != mv0->index || memcmp(mv.mac, mv0->mac, 6))) {
		fail("zmv0 #%d %s, was #%d %s", mv.index, net_mac_str(mv.mac, 6), mv0->index, net_mac_str(mv0->mac, 6));
		return -1;
	}
	*mv0 = mv;
	if (net_has_addr("zmv0", AF_INET, "10.91.0.1", 24) != 1) {
		fail("the macvlan lost its address");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct net_link mv = {};

	test_init(argc, argv);

	if (net_run("ip link add ml0 type veth peer name ml1") ||
	    net_run("ip link add zmv0 link ml0 type macvlan mode bridge") ||
	    net_run("ip addr add 10.91.0.1/24 dev zmv0") || net_run("ip link set ml0 up") ||
	    net_run("ip link set ml1 up") || net_run("ip link set zmv0 up"))
		return 1;
	if (check(&mv))
		return 1;

	test_daemon();
	test_waitsig();

	if (check(&mv))
		return 1;
	pass();
	return 0;
}
