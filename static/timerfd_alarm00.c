#include <fcntl.h>
#include <sys/timerfd.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "Timerfds on CLOCK_BOOTTIME_ALARM (relative, 900 s, 5 s interval) and CLOCK_REALTIME_ALARM "
		       "(absolute, now + 800 s), which need CAP_WAKE_ALARM: after C/R the clocks, time left, "
		       "instant and interval are kept";
const char *test_author = "Stasis developers";

static long long fdinfo_clock(int fd)
{
	char path[64], line[128];
	long long v = -1;
	FILE *f;

	ssprintf(path, "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		sscanf(line, "clockid: %lld", &v);
	fclose(f);
	return v;
}

static long long ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

int main(int argc, char **argv)
{
	struct itimerspec b = { .it_value = { 900, 0 }, .it_interval = { 5, 0 } }, r = {}, cur;
	struct timespec now;
	long long left, want;
	int fb, fr;

	test_init(argc, argv);

	fb = timerfd_create(CLOCK_BOOTTIME_ALARM, 0);
	fr = timerfd_create(CLOCK_REALTIME_ALARM, TFD_NONBLOCK);
	if (fb < 0 || fr < 0)
		return pr_perror("timerfd_create on an alarm clock");
	clock_gettime(CLOCK_REALTIME, &now);
	r.it_value.tv_sec = now.tv_sec + 800;
	if (timerfd_settime(fb, 0, &b, NULL) || timerfd_settime(fr, TFD_TIMER_ABSTIME, &r, NULL))
		return pr_perror("timerfd_settime");

	test_daemon();
	test_waitsig();

	if (fdinfo_clock(fb) != CLOCK_BOOTTIME_ALARM || fdinfo_clock(fr) != CLOCK_REALTIME_ALARM) {
		fail("clocks after C/R: %lld %lld", fdinfo_clock(fb), fdinfo_clock(fr));
		return 1;
	}
	if (timerfd_gettime(fb, &cur))
		return pr_perror("timerfd_gettime");
	if (ns(&cur.it_value) > 900000000000LL || ns(&cur.it_value) < 840000000000LL ||
	    ns(&cur.it_interval) != 5000000000LL) {
		fail("the boottime alarm after C/R: %lld ns left, interval %lld", ns(&cur.it_value),
		     ns(&cur.it_interval));
		return 1;
	}
	if (timerfd_gettime(fr, &cur) || clock_gettime(CLOCK_REALTIME, &now))
		return pr_perror("timerfd_gettime");
	left = ns(&cur.it_value);
	want = ns(&r.it_value) - ns(&now);
	if (left - want > 50000000LL || want - left > 50000000LL) {
		fail("the realtime alarm expires in %lld ns after C/R, expected %lld", left, want);
		return 1;
	}
	pass();
	return 0;
}
