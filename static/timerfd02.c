#include <fcntl.h>
#include <sys/timerfd.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "A non-blocking CLOCK_BOOTTIME timerfd armed for 600 s, a CLOCK_MONOTONIC timerfd never "
		       "armed, and a CLOCK_REALTIME one armed with TFD_TIMER_ABSTIME then disarmed: after C/R the "
		       "clocks (fdinfo), the first's time left, the others disarmed (gettime 0, read EAGAIN) and "
		       "the third's settime flags";
const char *test_author = "Stasis developers";

static int fdinfo_int(int fd, const char *key, long long *val, int base)
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
			*val = strtoll(line + len + 1, NULL, base);
			found = 1;
		}
	fclose(f);
	return found ? 0 : -1;
}

static long long ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

static int disarmed(int fd, int clock, long long flags)
{
	struct itimerspec cur;
	long long clk = -1, fl = -1;
	uint64_t v;

	if (timerfd_gettime(fd, &cur))
		return pr_perror("timerfd_gettime");
	if (ns(&cur.it_value) || ns(&cur.it_interval)) {
		fail("fd %d is armed after C/R (%lld ns left)", fd, ns(&cur.it_value));
		return 1;
	}
	if (fdinfo_int(fd, "clockid", &clk, 10) || clk != clock || fdinfo_int(fd, "settime flags", &fl, 8) ||
	    fl != flags) {
		fail("fd %d after C/R: clock %lld (expected %d), settime flags %llo (expected %llo)", fd, clk, clock,
		     fl, flags);
		return 1;
	}
	if (read(fd, &v, sizeof(v)) != -1 || errno != EAGAIN) {
		fail("a read of disarmed fd %d did not fail with EAGAIN", fd);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct itimerspec its = { .it_value = { 600, 0 } }, cur, zero = {};
	long long clk = -1;
	int boot, never, off;

	test_init(argc, argv);

	boot = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK);
	never = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	off = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	if (boot < 0 || never < 0 || off < 0)
		return pr_perror("timerfd_create");
	if (timerfd_settime(boot, 0, &its, NULL))
		return pr_perror("timerfd_settime");
	its.it_value.tv_sec = time(NULL) + 100;
	if (timerfd_settime(off, TFD_TIMER_ABSTIME, &its, NULL) || timerfd_settime(off, TFD_TIMER_ABSTIME, &zero, NULL))
		return pr_perror("timerfd_settime");

	test_daemon();
	test_waitsig();

	if (timerfd_gettime(boot, &cur))
		return pr_perror("timerfd_gettime");
	if (ns(&cur.it_value) > 600000000000LL || ns(&cur.it_value) < 540000000000LL || ns(&cur.it_interval)) {
		fail("the CLOCK_BOOTTIME timer has %lld ns left after C/R (interval %lld), expected (540 s, 600 s]",
		     ns(&cur.it_value), ns(&cur.it_interval));
		return 1;
	}
	if (fdinfo_int(boot, "clockid", &clk, 10) || clk != CLOCK_BOOTTIME) {
		fail("clockid %lld after C/R, expected CLOCK_BOOTTIME", clk);
		return 1;
	}
	if (disarmed(never, CLOCK_MONOTONIC, 0) || disarmed(off, CLOCK_REALTIME, TFD_TIMER_ABSTIME))
		return 1;
	pass();
	return 0;
}
