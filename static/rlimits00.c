#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that lowered soft and hard resource limits survive C/R (getrlimit and /proc/self/limits)";
const char *test_author = "Stasis developers";

#define MiB (1024UL * 1024)

/* The limits this test sets: never above the current ones, so no privilege is needed. 0 = keep the hard limit. */
static const struct {
	int res;
	const char *name;
	rlim_t soft;
	rlim_t hard;
} targets[] = {
	{ RLIMIT_CPU, "CPU", 86400, 0 },
	{ RLIMIT_FSIZE, "FSIZE", 16384 * MiB, 0 },
	{ RLIMIT_DATA, "DATA", 256 * 1024 * MiB, 0 },
	{ RLIMIT_STACK, "STACK", 6 * MiB, 0 },
	{ RLIMIT_CORE, "CORE", 0, 16 * MiB },
	{ RLIMIT_RSS, "RSS", 64 * 1024 * MiB, 0 },
	{ RLIMIT_NPROC, "NPROC", 4321, 0 },
	{ RLIMIT_NOFILE, "NOFILE", 900, 0 },
	{ RLIMIT_MEMLOCK, "MEMLOCK", 1 * MiB, 2 * MiB },
	{ RLIMIT_AS, "AS", 1024 * 1024 * MiB, 0 },
	{ RLIMIT_LOCKS, "LOCKS", 5000, 10000 },
	{ RLIMIT_SIGPENDING, "SIGPENDING", 1000, 0 },
	{ RLIMIT_MSGQUEUE, "MSGQUEUE", 409600, 600000 },
	{ RLIMIT_RTTIME, "RTTIME", 5000000, 10000000 },
};

#define LIMITS_MAX 4096

static ssize_t read_limits(char *buf, size_t size)
{
	ssize_t n, total = 0;
	int fd;

	fd = open("/proc/self/limits", O_RDONLY);
	if (fd < 0) {
		pr_perror("open(/proc/self/limits)");
		return -1;
	}
	while ((n = read(fd, buf + total, size - 1 - total)) > 0)
		total += n;
	close(fd);
	if (n < 0) {
		pr_perror("read(/proc/self/limits)");
		return -1;
	}
	buf[total] = '\0';
	return total;
}

static rlim_t min_rlim(rlim_t a, rlim_t b)
{
	/* RLIM_INFINITY is the largest rlim_t, so the plain comparison works */
	return a < b ? a : b;
}

int main(int argc, char **argv)
{
	static char limits_before[LIMITS_MAX], limits_after[LIMITS_MAX];
	struct rlimit before[RLIM_NLIMITS], after;
	size_t i;
	int r;

	test_init(argc, argv);

	for (i = 0; i < ARRAY_SIZE(targets); i++) {
		struct rlimit rl;

		if (getrlimit(targets[i].res, &rl)) {
			pr_perror("getrlimit(%s)", targets[i].name);
			return 1;
		}
		if (targets[i].hard)
			rl.rlim_max = min_rlim(rl.rlim_max, targets[i].hard);
		rl.rlim_cur = min_rlim(min_rlim(rl.rlim_cur, targets[i].soft), rl.rlim_max);
		if (setrlimit(targets[i].res, &rl)) {
			pr_perror("setrlimit(%s, %lu, %lu)", targets[i].name, (unsigned long)rl.rlim_cur,
				  (unsigned long)rl.rlim_max);
			return 1;
		}
	}

	for (r = 0; r < RLIM_NLIMITS; r++) {
		if (getrlimit(r, &before[r])) {
			pr_perror("getrlimit(%d)", r);
			return 1;
		}
		test_msg("limit %2d: %lu %lu\n", r, (unsigned long)before[r].rlim_cur, (unsigned long)before[r].rlim_max);
	}
	if (read_limits(limits_before, sizeof(limits_before)) < 0)
		return 1;

	test_daemon();
	test_waitsig();

	for (r = 0; r < RLIM_NLIMITS; r++) {
		if (getrlimit(r, &after)) {
			fail("getrlimit(%d)", r);
			return 1;
		}
		if (after.rlim_cur != before[r].rlim_cur || after.rlim_max != before[r].rlim_max) {
			fail("limit %d was %lu/%lu, now %lu/%lu (soft/hard)", r, (unsigned long)before[r].rlim_cur,
			     (unsigned long)before[r].rlim_max, (unsigned long)after.rlim_cur,
			     (unsigned long)after.rlim_max);
			return 1;
		}
	}
	if (read_limits(limits_after, sizeof(limits_after)) < 0) {
		fail("cannot read /proc/self/limits");
		return 1;
	}
	if (strcmp(limits_before, limits_after)) {
		fail("/proc/self/limits changed:\n%s\n---- now:\n%s", limits_before, limits_after);
		return 1;
	}

	pass();
	return 0;
}
