#include "ns_net.h"

const char *test_doc = "An nftables ruleset in the test's own network namespace: a table with an input chain "
		       "that drops UDP to port 7777 and drops anything to the addresses of a named set; after C/R "
		       "the rules still act: a datagram to 127.0.0.1:7777 or to an address of the set is dropped, "
		       "one to 127.0.0.1:7778 arrives";
const char *test_author = "Stasis developers";

static int check(void)
{
	if (net_udp_ping("127.0.0.1", "127.0.0.1", 7778) != 1) {
		fail("a datagram the ruleset lets through did not arrive");
		return -1;
	}
	if (net_udp_ping("127.0.0.1", "127.0.0.1", 7777) != 0) {
		fail("a datagram to port 7777 arrived: the drop rule is gone");
		return -1;
	}
	if (net_udp_ping("127.0.0.1", "127.0.0.3", 7778) != 0) {
		fail("a datagram to 127.0.0.3 arrived: the set or its rule is gone");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);

	if (net_run("ip link set lo up") ||
	    net_run("nft -f - <<'END'\n"
		    "table inet zdtm {\n"
		    "	set blocked { type ipv4_addr; elements = { 127.0.0.3, 127.0.0.4 } }\n"
		    "	chain input {\n"
		    "		type filter hook input priority 0; policy accept;\n"
		    "		udp dport 7777 counter drop\n"
		    "		ip daddr @blocked drop\n"
		    "	}\n"
		    "}\n"
		    "END"))
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
