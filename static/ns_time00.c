#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "A time namespace of the test's (unshare CLONE_NEWTIME, monotonic and boottime offsets "
		       "written to /proc/self/timens_offsets) and a child living in it: after C/R the child's "
		       "clocks are still the test's plus the offsets, the child is in the test's "
		       "time_for_children (not the test's own), the offsets are the same, and a new child "
		       "enters it too";
const char *test_author = "Stasis developers";

#define MONO_OFF 1000
#define BOOT_OFF 2000

static int ns_ino(const char *path, ino_t *ino)
{
	struct stat st;

	if (stat(path, &st))
		return pr_perror("stat %s", path);
	*ino = st.st_ino;
	return 0;
}

static long long ns_of(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct kid {
	pid_t pid;
	int req, rep;
};

struct clocks {
	long long mono, boot;
};

static void kid_loop(int req, int rep)
{
	struct clocks c;
	char x;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	while (read(req, &x, 1) == 1) {
		c.mono = ns_of(CLOCK_MONOTONIC);
		c.boot = ns_of(CLOCK_BOOTTIME);
		if (write(rep, &c, sizeof(c)) != sizeof(c))
			_exit(2);
	}
	_exit(0);
}

static int start_kid(struct kid *k)
{
	int a[2], b[2];

	if (pipe(a) || pipe(b))
		return pr_perror("pipe");
	k->pid = fork();
	if (k->pid < 0)
		return pr_perror("fork");
	if (k->pid == 0) {
		close(a[1]);
		close(b[0]);
		kid_loop(a[0], b[1]);
	}
	close(a[0]);
	close(b[1]);
	k->req = a[1];
	k->rep = b[0];
	return 0;
}

static void stop_kid(struct kid *k)
{
	if (k->pid <= 0)
		return;
	kill(k->pid, SIGKILL);
	waitpid(k->pid, NULL, 0);
	k->pid = 0;
}

/* The child's clock minus the offset lies between the test's readings before and after asking */
static int check_kid(struct kid *k, const char *who)
{
	long long m0, m1, b0, b1, off_m = MONO_OFF * 1000000000LL, off_b = BOOT_OFF * 1000000000LL;
	struct clocks c;

	m0 = ns_of(CLOCK_MONOTONIC);
	b0 = ns_of(CLOCK_BOOTTIME);
	if (write(k->req, "?", 1) != 1 || read(k->rep, &c, sizeof(c)) != sizeof(c)) {
		fail("%s does not answer", who);
		return 1;
	}
	m1 = ns_of(CLOCK_MONOTONIC);
	b1 = ns_of(CLOCK_BOOTTIME);
	if (c.mono - off_m < m0 || c.mono - off_m > m1 || c.boot - off_b < b0 || c.boot - off_b > b1) {
		errno = 0;
		fail("%s: its clocks are off by monotonic %+.3f s, boottime %+.3f s from ours; expected +%d s, +%d s",
		     who, (c.mono - m0) / 1e9, (c.boot - b0) / 1e9, MONO_OFF, BOOT_OFF);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct kid a = {}, b = {};
	ino_t outer, mine, kid_ns, now;
	char offs[256], offs_now[256], path[64], line[64];
	int ret = 1;

	test_init(argc, argv);

	if (ns_ino("/proc/self/ns/time", &outer))
		return 1;
	{	/* offsets are absolute: the new ones are the test's own (a flavor's time namespace) plus ours */
		long long ms = 0, bs = 0, mn = 0, bn = 0, sec, nsec;
		char own[256], name[32], *p = own;
		int n;

		if (read_value("/proc/self/timens_offsets", own, sizeof(own)))
			return 1;
		while (sscanf(p, "%31s %lld %lld%n", name, &sec, &nsec, &n) == 3) {
			if (!strcmp(name, "monotonic")) {
				ms = sec;
				mn = nsec;
			} else if (!strcmp(name, "boottime")) {
				bs = sec;
				bn = nsec;
			}
			p += n;
		}
		if (unshare(CLONE_NEWTIME)) {
			pr_perror("unshare(CLONE_NEWTIME)");
			return 1;
		}
		ssprintf(line, "monotonic %lld %lld\nboottime %lld %lld\n", ms + MONO_OFF, mn, bs + BOOT_OFF, bn);
	}
	if (write_value("/proc/self/timens_offsets", line))
		return 1;
	if (ns_ino("/proc/self/ns/time_for_children", &mine))
		return 1;
	if (mine == outer) {
		pr_err("time_for_children is the test's own time namespace after unshare\n");
		return 1;
	}
	if (read_value("/proc/self/timens_offsets", offs, sizeof(offs)))
		return 1;
	if (start_kid(&a))
		goto out;
	ssprintf(path, "/proc/%d/ns/time", a.pid);
	if (ns_ino(path, &kid_ns) || kid_ns != mine) {
		pr_err("the child is not in the new time namespace\n");
		goto out;
	}
	if (check_kid(&a, "the child before C/R"))
		goto out;

	test_daemon();
	test_waitsig();

	if (ns_ino("/proc/self/ns/time", &outer))	/* the flavor's may be a restored one: new */
		goto out;
	/* a restored namespace is a new object: the sharing is what must hold, not the inode */
	if (ns_ino("/proc/self/ns/time_for_children", &mine))
		goto out;
	if (mine == outer) {
		fail("time_for_children is the test's own time namespace after C/R");
		goto out;
	}
	if (ns_ino(path, &now))
		goto out;
	if (now != mine) {
		fail("the child's time namespace is %lu after C/R, not the test's time_for_children %lu",
		     (unsigned long)now, (unsigned long)mine);
		goto out;
	}
	if (read_value("/proc/self/timens_offsets", offs_now, sizeof(offs_now)) || strcmp(offs, offs_now)) {
		fail("timens_offsets after C/R:\n%s\nwere:\n%s", offs_now, offs);
		goto out;
	}
	if (check_kid(&a, "the child after C/R"))
		goto out;
	/* a child made after C/R enters the namespace too */
	if (start_kid(&b))
		goto out;
	if (check_kid(&b, "a child forked after C/R"))
		goto out;
	pass();
	ret = 0;
out:
	stop_kid(&a);
	stop_kid(&b);
	return ret;
}
