#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include "zdtmtst.h"

const char *test_doc = "A tun device made with TUNSETIFF on an fd of /dev/net/tun (not persistent: it lives by "
		       "the fd): TUNGETIFF returns the same name and flags after C/R, and the interface is there "
		       "with the same index";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	struct ifreq ifr = {}, got;
	unsigned int ifindex;
	char name[IFNAMSIZ];
	int fd;

	test_init(argc, argv);

	fd = open("/dev/net/tun", O_RDWR);
	if (fd < 0) {
		pr_perror("open /dev/net/tun");
		return 1;
	}
	ssprintf(name, "zdtmtun%d", getpid() % 100000);
	strcpy(ifr.ifr_name, name);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		pr_perror("TUNSETIFF %s", name);
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr)) {
		pr_perror("TUNGETIFF");
		return 1;
	}
	if (strcmp(ifr.ifr_name, name) ||
	    (ifr.ifr_flags & (IFF_TUN | IFF_TAP | IFF_NO_PI)) != (IFF_TUN | IFF_NO_PI)) {
		pr_err("TUNGETIFF right after TUNSETIFF: %s %#x\n", ifr.ifr_name, ifr.ifr_flags);
		return 1;
	}
	ifindex = if_nametoindex(name);
	if (!ifindex) {
		pr_perror("if_nametoindex %s", name);
		return 1;
	}

	test_daemon();
	test_waitsig();

	memset(&got, 0, sizeof(got));
	if (ioctl(fd, TUNGETIFF, &got)) {
		fail("TUNGETIFF after C/R: the fd is not attached to a tun device");
		return 1;
	}
	if (strcmp(got.ifr_name, ifr.ifr_name) || got.ifr_flags != ifr.ifr_flags) {
		errno = 0;
		fail("TUNGETIFF after C/R: %s flags %#x, was %s flags %#x", got.ifr_name, got.ifr_flags, ifr.ifr_name,
		     ifr.ifr_flags);
		return 1;
	}
	if (if_nametoindex(name) != ifindex) {
		fail("interface %s has index %u after C/R, was %u", name, if_nametoindex(name), ifindex);
		return 1;
	}
	close(fd);
	/* not persistent: it goes with its last fd */
	pass();
	return 0;
}
