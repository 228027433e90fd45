#include <sys/ioctl.h>

#include "ns_net.h"

const char *test_doc = "A veth pair made at ifindexes 42 and 43 with MTUs, MAC addresses, a txqueuelen and an "
		       "alias of their own: after C/R both ends have the same ifindexes, MTUs, MACs, txqueuelen "
		       "(SIOCGIFINDEX, SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFTXQLEN, rtnetlink)";
const char *test_author = "Stasis developers";

static const struct {
	const char *name, *mac;
	int index, mtu, txqlen;
} devs[] = {
	{ "mm0", "02:11:22:33:44:55", 42, 1400, 500 },
	{ "mm1", "02:11:22:33:44:66", 43, 9000, 1000 },
};

static int check(void)
{
	struct net_link l;
	struct ifreq ifr;
	unsigned i;
	int sk;

	sk = socket(AF_INET, SOCK_DGRAM, 0);
	if (sk < 0)
		return pr_perror("socket");
	for (i = 0; i < 2; i++) {
		memset(&ifr, 0, sizeof(ifr));
		strcpy(ifr.ifr_name, devs[i].name);
		if (ioctl(sk, SIOCGIFINDEX, &ifr) || ifr.ifr_ifindex != devs[i].index) {
			fail("%s: ifindex %d, want %d", devs[i].name, ifr.ifr_ifindex, devs[i].index);
			goto err;
		}
		if (ioctl(sk, SIOCGIFMTU, &ifr) || ifr.ifr_mtu != devs[i].mtu) {
			fail("%s: mtu %d, want %d", devs[i].name, ifr.ifr_mtu, devs[i].mtu);
			goto err;
		}
		if (ioctl(sk, SIOCGIFHWADDR, &ifr) ||
		    strcmp(net_mac_str((unsigned char *)ifr.ifr_hwaddr.sa_data, 6), devs[i].mac)) {
			fail("%s: MAC %s, want %s", devs[i].name, net_mac_str((unsigned char *)ifr.ifr_hwaddr.sa_data, 6),
			     devs[i].mac);
			goto err;
		}
		if (ioctl(sk, SIOCGIFTXQLEN, &ifr) || ifr.ifr_qlen != devs[i].txqlen) {
			fail("%s: txqueuelen %d, want %d", devs[i].name, ifr.ifr_qlen, devs[i].txqlen);
			goto err;
		}
		if (net_link_get(devs[i].name, &l) || l.link != devs[1 - i].index || !(l.flags & IFF_UP)) {
			fail("%s: peer #%d flags %#x", devs[i].name, l.link, l.flags);
			goto err;
		}
	}
	close(sk);
	return 0;
err:
	close(sk);
	return -1;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);

	if (net_run("ip link add mm0 index 42 mtu 1400 address 02:11:22:33:44:55 type veth peer name mm1 index 43 "
		    "mtu 9000 address 02:11:22:33:44:66") ||
	    net_run("ip link set mm0 txqueuelen 500 alias 'the test end'") || net_run("ip link set mm0 up") ||
	    net_run("ip link set mm1 up"))
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
