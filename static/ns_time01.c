#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A child makes a time namespace and enters it itself (unshare CLONE_NEWTIME, offsets, "
		       "setns into its time_for_children), then forks a grandchild that lives there too. After "
		       "C/R both still read the clocks shifted by the offsets from the test's, share that "
		       "namespace (not the test's), the child's offsets read the same and its time_for_children "
		       "is its own";
const char *test_author = "Stasis developers";

#define MONO_OFF 3000
#define BOOT_OFF 5000

static int go[2], ready[2];

static long long now_of(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static ino_t ino_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;
}

static int slurp(const char *path, char *buf, int len)
{
	int fd = open(path, O_RDONLY), n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

/* our clocks, as sent by the test after C/R, against this process's */
static int shifted(const char *who, int rd)
{
	long long theirs[2], mono = now_of(CLOCK_MONOTONIC), boot = now_of(CLOCK_BOOTTIME);
	long long dm, db;

	if (read(rd, theirs, sizeof(theirs)) != sizeof(theirs))
		return 1;
	dm = (mono - theirs[0]) / 1000000000LL;
	db = (boot - theirs[1]) / 1000000000LL;
	if (dm < MONO_OFF - 1 || dm > MONO_OFF + 2 || db < BOOT_OFF - 1 || db > BOOT_OFF + 2) {
		fprintf(stderr, "%s: clocks shifted by %lld s / %lld s, not %d / %d\n", who, dm, db, MONO_OFF,
			BOOT_OFF);
		return 1;
	}
	return 0;
}

static int child_fn(int rd_grand)
{
	char own[256], name[32], line[256], before[256], after[256], *p = own;
	long long ms = 0, mn = 0, bs = 0, bn = 0, sec, nsec;
	pid_t grand;
	int fd, n, st, pg[2];

	if (slurp("/proc/self/timens_offsets", own, sizeof(own)))
		return 10;
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
	if (unshare(CLONE_NEWTIME))
		return 11;
	snprintf(line, sizeof(line), "monotonic %lld %lld\nboottime %lld %lld\n", ms + MONO_OFF, mn, bs + BOOT_OFF, bn);
	fd = open("/proc/self/timens_offsets", O_WRONLY);
	if (fd < 0 || write(fd, line, strlen(line)) != (int)strlen(line))
		return 12;
	close(fd);
	fd = open("/proc/self/ns/time_for_children", O_RDONLY);
	if (fd < 0 || setns(fd, CLONE_NEWTIME))
		return 13;
	close(fd);
	if (pipe(pg))
		return 14;
	grand = fork();
	if (grand == 0) {
		char c;

		if (read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(shifted("the grandchild", rd_grand) ||
		      ino_of("/proc/self/ns/time") != ino_of("/proc/self/ns/time_for_children") ? 2 : 0);
	}
	if (slurp("/proc/self/timens_offsets", before, sizeof(before)) || write(ready[1], "r", 1) != 1)
		return 15;
	if (read(go[0], line, 1) != 1)
		return 16;
	if (slurp("/proc/self/timens_offsets", after, sizeof(after)) || strcmp(before, after)) {
		fprintf(stderr, "offsets %s, were %s\n", after, before);
		return 17;
	}
	if (ino_of("/proc/self/ns/time") != ino_of("/proc/self/ns/time_for_children")) {
		fprintf(stderr, "its time_for_children is not its own time namespace\n");
		return 18;
	}
	if (waitpid(grand, &st, 0) != grand || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "the grandchild: status %#x\n", st);
		return 19;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int to_child[2], to_grand[2], st, i;
	char path[64], c;
	long long clocks[2];
	pid_t pid;

	test_init(argc, argv);

	if (pipe(go) || pipe(ready) || pipe(to_child) || pipe(to_grand)) {
		pr_perror("pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		int r = child_fn(to_grand[0]);

		if (!r)
			r = shifted("the child", to_child[0]) ? 20 : 0;
		_exit(r);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		waitpid(pid, &st, 0);
		pr_err("the child could not make its time namespace (status %#x)\n", st);
		return 1;
	}

	test_daemon();
	test_waitsig();

	snprintf(path, sizeof(path), "/proc/%d/ns/time", pid);
	if (ino_of(path) == ino_of("/proc/self/ns/time")) {
		fail("the child is in the test's time namespace");
		return 1;
	}
	for (i = 0; i < 2; i++)
		if (write(go[1], "g", 1) != 1)
			return 1;
	clocks[0] = now_of(CLOCK_MONOTONIC);
	clocks[1] = now_of(CLOCK_BOOTTIME);
	if (write(to_grand[1], clocks, sizeof(clocks)) != sizeof(clocks) ||
	    write(to_child[1], clocks, sizeof(clocks)) != sizeof(clocks))
		return 1;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fail("the child found its time namespace changed (status %#x)", st);
		return 1;
	}
	pass();
	return 0;
}
