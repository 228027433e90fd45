#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "zdtmtst.h"
#include "ns_user.h"

const char *test_doc = "A child in a user namespace below the test's with a range of ids mapped and setgroups "
		       "allowed (written by the privileged test), which made a network namespace inside it (lo "
		       "up), then took supplementary groups and other ids and dropped its capabilities. After "
		       "C/R its ids, groups and capabilities as it sees them, the maps, the network namespace's "
		       "owner and lo's state are as before, and it still cannot regain a capability";
const char *test_author = "Stasis developers";

#define BASE 10000
#define COUNT 2000

static int ready[2], go[2], mapped[2];

static int lo_up(void)
{
	struct ifreq ifr = {};
	int s = socket(AF_INET, SOCK_DGRAM, 0), ok;

	if (s < 0)
		return -1;
	strcpy(ifr.ifr_name, "lo");
	ok = ioctl(s, SIOCGIFFLAGS, &ifr) ? -1 : !!(ifr.ifr_flags & IFF_UP);
	close(s);
	return ok;
}

static int set_lo_up(void)
{
	struct ifreq ifr = {};
	int s = socket(AF_INET, SOCK_DGRAM, 0), ret;

	if (s < 0)
		return -1;
	strcpy(ifr.ifr_name, "lo");
	ret = ioctl(s, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (!ret)
		ret = ioctl(s, SIOCSIFFLAGS, &ifr);
	close(s);
	return ret;
}

static int cap_eff_zero(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return 0;
	return !d[0].effective && !d[1].effective && !d[0].permitted && !d[1].permitted;
}

/* whatever securebits it inherited: nothing effective, permitted or inheritable */
static int drop_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {};

	return syscall(SYS_capset, &h, d);
}

static int child_fn(void)
{
	gid_t want_groups[] = { 5, 6, 1500 }, groups[8];
	uid_t r, e, s;
	gid_t rg, eg, sg;
	int n;
	char c;

	if (unshare(CLONE_NEWUSER))
		return 10;
	if (write(ready[1], "u", 1) != 1 || read(mapped[0], &c, 1) != 1)
		return 11;
	if (unshare(CLONE_NEWNET) || set_lo_up())
		return 12;
	if (setgroups(3, want_groups) || setresgid(7, 1007, 1107) || setresuid(8, 1008, 1108))
		return 13;
	if (drop_caps() || !cap_eff_zero())
		return 14;
	if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
		return 15;
	if (getresuid(&r, &e, &s) || r != 8 || e != 1008 || s != 1108 ||
	    getresgid(&rg, &eg, &sg) || rg != 7 || eg != 1007 || sg != 1107) {
		fprintf(stderr, "ids inside: %d %d %d / %d %d %d\n", r, e, s, rg, eg, sg);
		return 16;
	}
	n = getgroups(8, groups);
	if (n != 3 || groups[0] != 5 || groups[1] != 6 || groups[2] != 1500) {
		fprintf(stderr, "groups inside: %d of them\n", n);
		return 17;
	}
	if (!cap_eff_zero() || !setresuid(0, 0, 0)) {
		fprintf(stderr, "it has capabilities again\n");
		return 18;
	}
	if (!ns_owned_by_mine("net") || lo_up() != 1) {
		fprintf(stderr, "its network namespace is not its user namespace's, or lo is down\n");
		return 19;
	}
	return 0;
}

static int read_file(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

int main(int argc, char **argv)
{
	char map[64], uid_before[128], gid_before[128], uid_after[128], gid_after[128], c;
	pid_t pid;
	int st;

	test_init(argc, argv);

	if (pipe(ready) || pipe(go) || pipe(mapped)) {
		pr_perror("pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0)
		_exit(child_fn());
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		pr_err("the child could not make its user namespace\n");
		return 1;
	}
	snprintf(map, sizeof(map), "0 %d %d\n", BASE, COUNT);
	if (ns_write_proc(pid, "gid_map", map) || ns_write_proc(pid, "uid_map", map) || write(mapped[1], "m", 1) != 1) {
		pr_perror("uid_map/gid_map");
		return 1;
	}
	if (read(ready[0], &c, 1) != 1) {
		waitpid(pid, &st, 0);
		pr_err("the child did not get ready (status %#x)\n", st);
		return 1;
	}
	if (read_file(pid, "uid_map", uid_before, sizeof(uid_before)) ||
	    read_file(pid, "gid_map", gid_before, sizeof(gid_before)))
		return 1;

	test_daemon();
	test_waitsig();

	if (read_file(pid, "uid_map", uid_after, sizeof(uid_after)) ||
	    read_file(pid, "gid_map", gid_after, sizeof(gid_after)) || strcmp(uid_before, uid_after) ||
	    strcmp(gid_before, gid_after)) {
		fail("the child's maps changed: %s / %s", uid_after, gid_after);
		return 1;
	}
	if (write(go[1], "g", 1) != 1 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fail("the child found its user namespace changed (status %#x)", st);
		return 1;
	}
	pass();
	return 0;
}
