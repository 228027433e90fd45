#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>

#include "ns_net.h"
#include "ns_child.h"

const char *test_doc = "A child in a network namespace of its own (unshare CLONE_NEWNET) with lo up and a veth "
		       "pair with an address on each end, and its own net.ipv4.ip_default_ttl; the test stays in "
		       "its own namespace with neither: after C/R the child finds its links, addresses, peers and "
		       "sysctl, and the test sees none of them";
const char *test_author = "Stasis developers";

static int read_ttl(char *buf, size_t len)
{
	if (read_value("/proc/sys/net/ipv4/ip_default_ttl", buf, len))
		return 1;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int child_check(void)
{
	struct net_link a, b, lo;
	char ttl[16];

	if (net_link_get("cv0", &a) || net_link_get("cv1", &b) || net_link_get("lo", &lo)) {
		pr_err("a link is gone\n");
		return 1;
	}
	if (a.link != b.index || b.link != a.index || !(a.flags & IFF_UP) || !(b.flags & IFF_UP) ||
	    !(lo.flags & IFF_UP)) {
		pr_err("peers %d/%d of #%d/#%d, flags %#x %#x lo %#x\n", a.link, b.link, a.index, b.index, a.flags,
		       b.flags, lo.flags);
		return 1;
	}
	if (net_has_addr("cv0", AF_INET, "10.71.0.1", 24) != 1 || net_has_addr("cv1", AF_INET, "10.71.0.2", 24) != 1) {
		pr_err("an address is gone\n");
		return 1;
	}
	if (read_ttl(ttl, sizeof(ttl)) || strcmp(ttl, "77")) {
		pr_err("ip_default_ttl is %s, not 77\n", ttl);
		return 1;
	}
	return 0;
}

static int child(int go, int ready)
{
	char c;
	int fd;

	if (unshare(CLONE_NEWNET))
		return pr_perror("unshare(CLONE_NEWNET)");
	if (net_run("ip link set lo up") || net_run("ip link add cv0 type veth peer name cv1") ||
	    net_run("ip addr add 10.71.0.1/24 dev cv0") || net_run("ip addr add 10.71.0.2/24 dev cv1") ||
	    net_run("ip link set cv0 up") || net_run("ip link set cv1 up"))
		return 1;
	fd = open("/proc/sys/net/ipv4/ip_default_ttl", O_WRONLY);
	if (fd < 0 || write(fd, "77", 2) != 2)
		return pr_perror("ip_default_ttl");
	close(fd);
	if (child_check())
		return 1;
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 1)
		return 2;
	return child_check();
}

int main(int argc, char **argv)
{
	struct ns_child kid;
	char mine[16], now[16];
	struct net_link l;

	test_init(argc, argv);
	if (unshare(CLONE_NEWNET)) { /* the test's own: in h the host's network namespace is not dumped */
		pr_perror("unshare(CLONE_NEWNET)");
		return 1;
	}
	if (ns_child_start(&kid, child))
		return 1;
	if (read_ttl(mine, sizeof(mine)))
		return 1;

	test_daemon();
	test_waitsig();

	if (net_link_get("cv0", &l) == 0 || net_link_get("cv1", &l) == 0) {
		fail("the test sees the child's links");
		return 1;
	}
	if (read_ttl(now, sizeof(now)) || strcmp(now, mine)) {
		fail("the test's ip_default_ttl changed (%s, was %s)", now, mine);
		return 1;
	}
	if (ns_child_finish(&kid, "network namespace"))
		return 1;
	pass();
	return 0;
}
