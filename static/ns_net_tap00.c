#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "ns_net.h"

const char *test_doc = "Persistent tun and tap devices in the test's own network namespace, with no file attached, "
		       "the tap up with a MAC and MTU of its own and an address, the tun with an owner: after C/R "
		       "both exist at their ifindexes, the tap is an Ethernet device with its MAC, MTU and address, "
		       "the tun a point-to-point one";
const char *test_author = "Stasis developers";

static int check(struct net_link *tap0, struct net_link *tun0)
{
	struct net_link tap, tun;

	if (net_link_get("ztap0", &tap) || net_link_get("ztun0", &tun)) {
		fail("a tun/tap device is gone");
		return -1;
	}
	if (strcmp(tap.kind, "tun") || strcmp(tun.kind, "tun") || tap.type != ARPHRD_ETHER || tun.type != ARPHRD_NONE) {
		fail("kinds %s/%s types %d/%d", tap.kind, tun.kind, tap.type, tun.type);
		return -1;
	}
	if (tap.mtu != 1234 || strcmp(net_mac_str(tap.mac, tap.maclen), "02:aa:bb:cc:dd:ee") || !(tap.flags & IFF_UP)) {
		fail("tap mtu %d mac %s flags %#x", tap.mtu, net_mac_str(tap.mac, tap.maclen), tap.flags);
		return -1;
	}
	if (tap0->index && (tap.index != tap0->index || tun.index != tun0->index)) {
		fail("ifindexes %d/%d, were %d/%d", tap.index, tun.index, tap0->index, tun0->index);
		return -1;
	}
	*tap0 = tap;
	*tun0 = tun;
	if (net_has_addr("ztap0", AF_INET, "10.90.0.1", 24) != 1) {
		fail("the tap lost its address");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct net_link tap = {}, tun = {};

	test_init(argc, argv);

	/* the test's own /dev has no tun node: make it (the device itself is the kernel's) */
	if (access("/dev/net/tun", F_OK) && mknod("/dev/net/tun", S_IFCHR | 0666, makedev(10, 200))) {
		pr_perror("mknod /dev/net/tun");
		return 1;
	}
	if (net_run("ip tuntap add ztap0 mode tap") || net_run("ip tuntap add ztun0 mode tun user 18943") ||
	    net_run("ip link set ztap0 mtu 1234 address 02:aa:bb:cc:dd:ee") ||
	    net_run("ip addr add 10.90.0.1/24 dev ztap0") || net_run("ip link set ztap0 up"))
		return 1;
	if (check(&tap, &tun))
		return 1;

	test_daemon();
	test_waitsig();

	if (check(&tap, &tun))
		return 1;
	pass();
	return 0;
}
