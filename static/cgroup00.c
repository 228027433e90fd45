#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "The test moves itself into a cgroup v2 directory of its own: after C/R /proc/self/cgroup still "
		       "shows that path (then it moves back and removes the directory)";
const char *test_author = "Stasis developers";

static char mnt[256], orig[512], dir[1024];

/* The cgroup2 mount point, from /proc/self/mountinfo */
static int find_cgroup2(void)
{
	char line[1024], mp[256], *sep;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		sep = strstr(line, " - ");
		if (!sep || strncmp(sep, " - cgroup2 ", 11))
			continue;
		if (sscanf(line, "%*d %*d %*s %*s %255s", mp) == 1) {
			snprintf(mnt, sizeof(mnt), "%s", mp);
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -1;
}

/* The v2 ("0::") line of /proc/self/cgroup, path only */
static int cur_cgroup(char *buf, size_t len)
{
	char line[1024];
	FILE *f;
	int ret = -1;

	f = fopen("/proc/self/cgroup", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, len, "%s", line + 3);
			ret = 0;
		}
	fclose(f);
	return ret;
}

static int move_to(const char *cg)
{
	char path[1400], pid[16];
	int fd, n;

	snprintf(path, sizeof(path), "%s%s/cgroup.procs", mnt, cg);
	snprintf(pid, sizeof(pid), "%d", getpid());
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	n = write(fd, pid, strlen(pid));
	close(fd);
	return n == (int)strlen(pid) ? 0 : -1;
}

static void cleanup(void)
{
	char path[1400];

	move_to(orig);
	snprintf(path, sizeof(path), "%s%s", mnt, dir);
	if (rmdir(path))
		pr_perror("rmdir %s", path);
}

int main(int argc, char **argv)
{
	char path[1400], now[1024];
	struct timespec ts;

	test_init(argc, argv);

	if (find_cgroup2() || cur_cgroup(orig, sizeof(orig))) {
		skip("no cgroup v2 mount");
		test_daemon();
		test_waitsig();
		pass();
		return 0;
	}
	/* Every item's container has its own pid namespace (the test is pid 4 in each): the time tells
	 * concurrent runs on one host apart */
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(dir, sizeof(dir), "%s%szdtm-cgroup00-%d-%lx%lx", orig, strcmp(orig, "/") ? "/" : "", getpid(),
		 (long)ts.tv_sec, ts.tv_nsec);
	snprintf(path, sizeof(path), "%s%s", mnt, dir);
	if (mkdir(path, 0755)) {
		pr_perror("mkdir %s", path);
		return 1;
	}
	if (move_to(dir)) {
		pr_perror("move into %s", path);
		rmdir(path);
		return 1;
	}
	if (cur_cgroup(now, sizeof(now)) || strcmp(now, dir)) {
		pr_err("/proc/self/cgroup says '%s' after moving into '%s'\n", now, dir);
		cleanup();
		return 1;
	}
	test_msg("cgroup2 at %s, moved from %s to %s\n", mnt, orig, dir);

	test_daemon();
	test_waitsig();

	if (cur_cgroup(now, sizeof(now)) || strcmp(now, dir)) {
		fail("the cgroup v2 path is '%s', expected '%s'", now, dir);
		cleanup();
		return 1;
	}
	cleanup();
	pass();
	return 0;
}
