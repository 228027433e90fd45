#include "ns_net.h"

const char *test_doc = "Static (permanent) neighbour entries in the test's own network namespace, IPv4 and IPv6, "
		       "on one end of a veth pair: after C/R /proc/net/arp still has the IPv4 one as complete and "
		       "permanent with its MAC address, and ip shows the IPv6 one";
const char *test_author = "Stasis developers";

static int check(void)
{
	char line[256], ip[64], hw[64], mask[32], dev[32];
	unsigned type, flags;
	int found = 0;
	FILE *f;

	f = fopen("/proc/net/arp", "r");
	if (!f)
		return pr_perror("/proc/net/arp");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s 0x%x 0x%x %63s %31s %31s", ip, &type, &flags, hw, mask, dev) == 6 &&
		    !strcmp(ip, "10.70.0.5") && !strcmp(hw, "02:00:00:00:70:05") && !strcmp(dev, "ng0") &&
		    (flags & 0x6) == 0x6)
			found = 1;
	fclose(f);
	if (!found) {
		fail("the static ARP entry 10.70.0.5 is lost");
		return -1;
	}
	if (net_run("ip -6 neigh show dev ng0 nud permanent | grep -q '^2001:db8:70::5 lladdr 02:00:00:00:70:06'")) {
		fail("the static IPv6 neighbour is lost");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);

	if (net_run("ip link add ng0 type veth peer name ng1") || net_run("ip link set ng0 up") ||
	    net_run("ip link set ng1 up") || net_run("ip addr add 10.70.0.1/24 dev ng0") ||
	    net_run("ip addr add 2001:db8:70::1/64 dev ng0 nodad") ||
	    net_run("ip neigh add 10.70.0.5 lladdr 02:00:00:00:70:05 dev ng0 nud permanent") ||
	    net_run("ip -6 neigh add 2001:db8:70::5 lladdr 02:00:00:00:70:06 dev ng0 nud permanent"))
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
