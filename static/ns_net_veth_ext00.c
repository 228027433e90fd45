#include <fcntl.h>
#include <sched.h>

#include "ns_net.h"

const char *test_doc = "A veth pair between the container's network namespace and the test's own (made with "
		       "unshare(CLONE_NEWNET), one end moved in): the dump names the inside end with --external "
		       "veth[zx0], the restore makes the pair again with the outside end called zxout0. After C/R "
		       "the inside end has its ifindex, MAC, MTU, addresses and routes and its peer is in "
		       "another namespace";
const char *test_author = "Stasis developers";

static int check(struct net_link *x0)
{
	struct net_link x;

	if (net_link_get("zx0", &x)) {
		fail("zx0 is gone");
		return -1;
	}
	if (strcmp(x.kind, "veth") || !(x.flags & IFF_UP) || x.mtu != 1420) {
		fail("zx0: kind %s flags %#x mtu %d", x.kind, x.flags, x.mtu);
		return -1;
	}
	if (x0->index && (x.index != x0->index || memcmp(x.mac, x0->mac, 6))) {
		fail("zx0 #%d %s, was #%d %s", x.index, net_mac_str(x.mac, 6), x0->index, net_mac_str(x0->mac, 6));
		return -1;
	}
	*x0 = x;
	if (net_has_addr("zx0", AF_INET, "10.93.0.2", 24) != 1 || net_has_addr("zx0", AF_INET6, "2001:db8:93::2", 64) != 1 ||
	    net_has_route4("zx0", "0.0.0.0", "0.0.0.0", "10.93.0.1", -1) != 1) {
		fail("zx0 lost an address or the default route");
		return -1;
	}
	/* the peer is outside: no link of this namespace has the peer's index as zx0's peer */
	if (net_run("ip -o link show zx0 | grep -q 'zx0@if[0-9]*:.* link-netnsid '")) {
		fail("zx0's peer is not in another namespace");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct net_link x = {};
	char cmd[128];
	int outer;

	test_init(argc, argv);

	/* the pair in the container's namespace first, then a namespace of our own and one end into it */
	outer = open("/proc/self/ns/net", O_RDONLY);
	if (outer < 0) {
		pr_perror("open /proc/self/ns/net");
		return 1;
	}
	if (net_run("ip link add zx0 mtu 1420 type veth peer name zxpeer0 mtu 1420"))
		return 1;
	if (unshare(CLONE_NEWNET)) {
		pr_perror("unshare(CLONE_NEWNET)");
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "nsenter --net=/proc/self/fd/%d ip link set zx0 netns %d", outer, getpid());
	if (net_run("%s", cmd))
		return 1;
	close(outer);
	if (net_run("ip link set lo up") || net_run("ip link set zx0 up") || net_run("ip addr add 10.93.0.2/24 dev zx0") ||
	    net_run("ip addr add 2001:db8:93::2/64 dev zx0 nodad") || net_run("ip route add default via 10.93.0.1"))
		return 1;
	if (check(&x))
		return 1;

	test_daemon();
	test_waitsig();

	if (check(&x))
		return 1;
	pass();
	return 0;
}
