#include "ns_net.h"

const char *test_doc = "A route in a routing table other than main (table 100) and a policy rule that uses it, in "
		       "the test's own network namespace: the engine restores only the main table, so the dump "
		       "must be refused with the tree left running; afterwards the route and the rule are still "
		       "there";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	test_init(argc, argv);

	if (net_run("ip link add rr0 type veth peer name rr1") || net_run("ip link set rr0 up") ||
	    net_run("ip link set rr1 up") || net_run("ip addr add 10.99.0.1/24 dev rr0") ||
	    net_run("ip route add 10.98.0.0/16 via 10.99.0.2 table 100") ||
	    net_run("ip rule add from 10.99.0.1 lookup 100 priority 1000"))
		return 1;

	test_daemon();
	test_waitsig();

	if (net_run("ip route show table 100 | grep -q '^10.98.0.0/16 via 10.99.0.2'") ||
	    net_run("ip rule show | grep -q '^1000:.*lookup 100'")) {
		fail("the table 100 route or its rule is lost");
		return 1;
	}
	pass();
	return 0;
}
