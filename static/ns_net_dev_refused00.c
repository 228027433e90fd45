#include "ns_net.h"

const char *test_doc = "A VXLAN device in the test's own network namespace: the engine does not rebuild VXLAN "
		       "devices, so the dump must be refused (naming the device) with the tree left running; "
		       "afterwards the device is still there with its address";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	struct net_link l;

	test_init(argc, argv);

	if (net_run("ip link add zvx0 type vxlan id 42 dstport 4789") || net_run("ip addr add 10.97.0.1/24 dev zvx0") ||
	    net_run("ip link set zvx0 up"))
		return 1;

	test_daemon();
	test_waitsig();

	if (net_link_get("zvx0", &l) || strcmp(l.kind, "vxlan") || net_has_addr("zvx0", AF_INET, "10.97.0.1", 24) != 1) {
		fail("the VXLAN device or its address is lost");
		return 1;
	}
	pass();
	return 0;
}
