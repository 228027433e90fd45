#include "ns_net.h"

const char *test_doc = "Routes of the main table in the test's own network namespace, IPv4 and IPv6: a "
		       "gateway route, a default route, a device route with a metric, a blackhole route, a "
		       "multipath route and an IPv6 gateway route, over one end of a veth pair: after C/R "
		       "/proc/net/route, /proc/net/ipv6_route (and ip, for the second hop) show each of them";
const char *test_author = "Stasis developers";

static int check(void)
{
	if (net_has_route4("rt0", "10.30.0.0", "255.255.0.0", "10.20.0.254", -1) != 1 ||
	    net_has_route4("rt0", "0.0.0.0", "0.0.0.0", "10.20.0.253", -1) != 1 ||
	    net_has_route4("rt0", "10.40.0.0", "255.255.255.0", "0.0.0.0", 50) != 1 ||
	    net_has_route4("rt0", "10.20.0.0", "255.255.255.0", "0.0.0.0", -1) != 1 ||
	    net_has_route4("*", "10.50.0.0", "255.255.0.0", "0.0.0.0", -1) != 1 ||
	    net_has_route4("rt0", "10.45.0.0", "255.255.0.0", "10.20.0.250", -1) != 1 ||
	    net_run("ip route show 10.45.0.0/16 | grep -q 'nexthop via 10.20.0.251 dev rt0 weight 1'")) {
		fail("an IPv4 route is lost");
		return -1;
	}
	if (net_has_route6("rt0", "2001:db8:30::", 48, "2001:db8:20::fe") != 1 ||
	    net_has_route6("rt0", "2001:db8:20::", 64, "::") != 1) {
		fail("an IPv6 route is lost");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);

	if (net_run("ip link set lo up") || net_run("ip link add rt0 type veth peer name rt1") ||
	    net_run("ip link set rt0 up") || net_run("ip link set rt1 up") ||
	    net_run("ip addr add 10.20.0.1/24 dev rt0") || net_run("ip addr add 2001:db8:20::1/64 dev rt0 nodad") ||
	    net_run("ip route add 10.30.0.0/16 via 10.20.0.254") || net_run("ip route add default via 10.20.0.253") ||
	    net_run("ip route add 10.40.0.0/24 dev rt0 metric 50") || net_run("ip route add blackhole 10.50.0.0/16") ||
	    net_run("ip -6 route add 2001:db8:30::/48 via 2001:db8:20::fe") ||
	    net_run("ip route add 10.45.0.0/16 nexthop via 10.20.0.250 weight 2 nexthop via 10.20.0.251"))
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
