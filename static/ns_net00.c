#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "zdtmtst.h"
#include "ns_outer.h"

const char *test_doc = "The test's own network namespace (unshare CLONE_NEWNET) with lo up and a per-namespace "
		       "sysctl changed (net.ipv4.ip_default_ttl): after C/R the test is still in a network "
		       "namespace of its own (a new one: the inode cannot come back), with lo's flags and the "
		       "sysctl as they were";
const char *test_author = "Stasis developers";

#define TTL_PATH "/proc/sys/net/ipv4/ip_default_ttl"
#define TTL "77"

static int ns_ino(const char *path, ino_t *ino)
{
	struct stat st;

	if (stat(path, &st))
		return pr_perror("stat %s", path);
	*ino = st.st_ino;
	return 0;
}

static int lo_flags(void)
{
	struct ifreq ifr = {};
	int s = socket(AF_INET, SOCK_DGRAM, 0), r;

	if (s < 0)
		return -1;
	strcpy(ifr.ifr_name, "lo");
	r = ioctl(s, SIOCGIFFLAGS, &ifr);
	close(s);
	return r ? -1 : (unsigned short)ifr.ifr_flags;
}

int main(int argc, char **argv)
{
	struct ifreq ifr = {};
	int s, flags, now_flags;
	ino_t outer, mine, now;
	char ttl[32];

	test_init(argc, argv);
	if (ns_outer_start())
		return 1;

	if (ns_ino("/proc/self/ns/net", &outer))
		return 1;
	if (unshare(CLONE_NEWNET)) {
		pr_perror("unshare(CLONE_NEWNET)");
		return 1;
	}
	if (ns_ino("/proc/self/ns/net", &mine))
		return 1;
	if (mine == outer) {
		pr_err("unshare(CLONE_NEWNET) left the test in its namespace\n");
		return 1;
	}
	s = socket(AF_INET, SOCK_DGRAM, 0);
	strcpy(ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr)) {
		pr_perror("SIOCGIFFLAGS lo");
		return 1;
	}
	if (ifr.ifr_flags & IFF_UP) {
		pr_err("lo is up in a new network namespace\n");
		return 1;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr)) {
		pr_perror("SIOCSIFFLAGS lo up");
		return 1;
	}
	close(s);
	if (read_value(TTL_PATH, ttl, sizeof(ttl)) || !strcmp(ttl, TTL "\n") || write_value(TTL_PATH, TTL))
		return 1;
	flags = lo_flags();
	if (flags < 0 || !(flags & IFF_UP)) {
		pr_err("lo flags %#x after setting it up\n", flags);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (ns_ino("/proc/self/ns/net", &now))
		return 1;
	/* not the outer one: asked of a child still in it (a dead namespace's number may be reused) */
	if (ns_outer_ino("net", &outer) || now == outer) {
		errno = 0;
		fail("after C/R the test is in the outer network namespace (%lu), not one of its own", (unsigned long)now);
		return 1;
	}
	now_flags = lo_flags();
	if (now_flags != flags) {
		fail("lo flags %#x after C/R, were %#x", now_flags, flags);
		return 1;
	}
	if (read_value(TTL_PATH, ttl, sizeof(ttl)) || strcmp(ttl, TTL "\n")) {
		fail(TTL_PATH " is \"%s\" after C/R, expected " TTL, ttl);
		return 1;
	}
	ns_outer_stop();
	pass();
	return 0;
}
