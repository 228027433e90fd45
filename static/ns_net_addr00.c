#include "ns_net.h"

const char *test_doc = "IPv4 and IPv6 addresses in the test's own network namespace: a primary and a "
		       "secondary IPv4 address and two IPv6 addresses (nodad) on one end of a veth pair, an IPv4 "
		       "address with a label (lo:1) on lo: after C/R getifaddrs() shows each with its prefix, the "
		       "IPv6 ones still nodad and not tentative, and sockets bind to them";
const char *test_author = "Stasis developers";

static const struct {
	const char *dev;
	int family;
	const char *addr;
	int prefix;
} addrs[] = {
	{ "ad0", AF_INET, "192.168.50.1", 24 },
	{ "ad0", AF_INET, "192.168.50.2", 24 },
	{ "ad0", AF_INET6, "2001:db8:1::1", 64 },
	{ "ad0", AF_INET6, "2001:db8:2::1", 48 },
	{ "lo:1", AF_INET, "10.77.0.1", 32 },
	{ "lo", AF_INET, "127.0.0.1", 8 },
	{ "lo", AF_INET6, "::1", 128 },
};

static int check(void)
{
	unsigned i;
	int fl;

	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		if (net_has_addr(addrs[i].dev, addrs[i].family, addrs[i].addr, addrs[i].prefix) != 1) {
			fail("%s has no %s/%d", addrs[i].dev, addrs[i].addr, addrs[i].prefix);
			return -1;
		}
		if (addrs[i].family != AF_INET6 || strcmp(addrs[i].dev, "ad0"))
			continue;
		fl = net_inet6_flags("ad0", addrs[i].addr);
		/* IFA_F_NODAD 0x02, IFA_F_TENTATIVE 0x40, IFA_F_PERMANENT 0x80 */
		if (fl < 0 || !(fl & 0x02) || (fl & 0x40) || !(fl & 0x80)) {
			fail("%s on ad0 has flags %#x (want nodad, permanent, not tentative)", addrs[i].addr, fl);
			return -1;
		}
	}
	if (net_udp_ping("192.168.50.2", "192.168.50.1", 7101) != 1 ||
	    net_udp_ping("2001:db8:2::1", "2001:db8:1::1", 7102) != 1 || net_udp_ping("10.77.0.1", "10.77.0.1", 7103) != 1) {
		fail("datagrams between the addresses do not arrive");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);

	if (net_run("ip link set lo up") || net_run("ip link add ad0 type veth peer name ad1") ||
	    net_run("ip link set ad0 up") || net_run("ip link set ad1 up") || net_link_settled("ad0") ||
	    net_link_settled("ad1") ||
	    net_run("ip addr add 192.168.50.1/24 dev ad0") || net_run("ip addr add 192.168.50.2/24 dev ad0") ||
	    net_run("ip addr add 2001:db8:1::1/64 dev ad0 nodad") ||
	    net_run("ip addr add 2001:db8:2::1/48 dev ad0 nodad") ||
	    net_run("ip addr add 10.77.0.1/32 dev lo label lo:1"))
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
