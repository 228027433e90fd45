#include <fcntl.h>
#include <sys/timerfd.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "A relative CLOCK_MONOTONIC timerfd armed for 1000 s with a 7.25 s interval, blocking: "
		       "after C/R the clock, flags, interval are the same and the time left is at most what it "
		       "was and at most 60 s less; it has not fired";
const char *test_author = "Stasis developers";

static int fdinfo_int(int fd, const char *key, long long *val)
{
	char path[64], line[128];
	size_t len = strlen(key);
	int found = 0;
	FILE *f;

	ssprintf(path, "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':') {
			*val = strtoll(line + len + 1, NULL, 0);
			found = 1;
		}
	fclose(f);
	return found ? 0 : -1;
}

static long long ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

int main(int argc, char **argv)
{
	struct itimerspec its = { .it_value = { 1000, 0 }, .it_interval = { 7, 250000000 } }, before, after;
	long long clk, ticks;
	int fd, fl;

	test_init(argc, argv);

	fd = timerfd_create(CLOCK_MONOTONIC, 0);
	if (fd < 0)
		return pr_perror("timerfd_create");
	if (timerfd_settime(fd, 0, &its, NULL))
		return pr_perror("timerfd_settime");
	fl = fcntl(fd, F_GETFL);

	test_daemon();
	test_waitsig();

	if (timerfd_gettime(fd, &before))
		return pr_perror("timerfd_gettime");
	after = before;
	if (fcntl(fd, F_GETFL) != fl || fdinfo_int(fd, "clockid", &clk) || clk != CLOCK_MONOTONIC ||
	    fdinfo_int(fd, "ticks", &ticks) || ticks != 0) {
		fail("after C/R: F_GETFL %#x (was %#x), clockid %lld, ticks %lld", fcntl(fd, F_GETFL), fl, clk, ticks);
		return 1;
	}
	if (ns(&after.it_interval) != ns(&its.it_interval)) {
		fail("interval after C/R %lld ns, expected %lld", ns(&after.it_interval), ns(&its.it_interval));
		return 1;
	}
	if (ns(&after.it_value) > 1000000000000LL || ns(&after.it_value) < 940000000000LL) {
		fail("time left after C/R %lld ns, expected in (940 s, 1000 s]", ns(&after.it_value));
		return 1;
	}
	pass();
	return 0;
}
