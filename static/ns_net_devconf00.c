#include "ns_net.h"

const char *test_doc = "Per-device sysctls of the test's own network namespace (net.ipv4.conf.<dev>.* and "
		       "net.ipv6.conf.<dev>.* on both ends of a veth pair and on lo, and of default and all), "
		       "among them forwarding, rp_filter, arp_ignore, proxy_arp, accept_redirects (which "
		       "forwarding resets), hop_limit, the IPv6 MTU, accept_dad, disable_ipv6 and stable_secret: "
		       "after C/R each reads as it was";
const char *test_author = "Stasis developers";

static const struct {
	const char *name, *value;
} ctls[] = {
	{ "ipv4/conf/all/forwarding", "1" },	/* every device forwards, and stops accepting redirects */
	{ "ipv4/conf/dc1/forwarding", "0" },
	{ "ipv4/conf/dc0/forwarding", "1" },
	{ "ipv4/conf/dc0/rp_filter", "2" },
	{ "ipv4/conf/dc0/arp_ignore", "1" },
	{ "ipv4/conf/dc0/proxy_arp", "1" },
	{ "ipv4/conf/dc0/accept_redirects", "1" },	/* after forwarding: restored after it too */
	{ "ipv4/conf/dc0/log_martians", "1" },
	{ "ipv4/conf/dc1/arp_announce", "2" },
	{ "ipv4/conf/dc1/accept_redirects", "0" },
	{ "ipv4/conf/lo/arp_ignore", "2" },
	{ "ipv4/conf/default/rp_filter", "1" },
	{ "ipv4/conf/all/log_martians", "1" },
	{ "ipv6/conf/dc0/forwarding", "1" },
	{ "ipv6/conf/dc0/hop_limit", "33" },
	{ "ipv6/conf/dc0/accept_ra", "0" },
	{ "ipv6/conf/dc0/mtu", "1300" },
	{ "ipv6/conf/dc0/dad_transmits", "3" },
	{ "ipv6/conf/dc0/accept_dad", "2" },
	{ "ipv6/conf/dc0/stable_secret", "2001:0db8:0001:0002:0003:0004:0005:0006" },
	{ "ipv6/conf/dc1/disable_ipv6", "1" },
	{ "ipv6/conf/default/hop_limit", "55" },
	{ "ipv6/conf/all/accept_dad", "1" },
};
#define N (sizeof(ctls) / sizeof(ctls[0]))

static int get(const char *name, char *buf, size_t size)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/%s", name);
	f = fopen(path, "r");
	if (!f || !fgets(buf, size, f)) {
		if (f)
			fclose(f);
		return pr_perror("read %s", path);
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int set(const char *name, const char *value)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/%s", name);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%s\n", value) < 0 || fclose(f))
		return pr_perror("write %s", path);
	return 0;
}

static int check(void)
{
	char buf[128];
	unsigned i;

	for (i = 0; i < N; i++) {
		if (get(ctls[i].name, buf, sizeof(buf)))
			return -1;
		if (strcmp(buf, ctls[i].value)) {
			errno = 0;
			fail("%s is \"%s\", want \"%s\"", ctls[i].name, buf, ctls[i].value);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned i;

	test_init(argc, argv);

	if (net_run("ip link add dc0 type veth peer name dc1") || net_run("ip link set dc0 up") ||
	    net_run("ip link set dc1 up") || net_link_settled("dc0") || net_link_settled("dc1"))
		return 1;
	for (i = 0; i < N; i++)
		if (set(ctls[i].name, ctls[i].value))
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
