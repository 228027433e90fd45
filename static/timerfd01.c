#include <fcntl.h>
#include <sys/timerfd.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "CLOCK_REALTIME timerfds set with TFD_TIMER_ABSTIME: one with TFD_TIMER_CANCEL_ON_SET at "
		       "now + 1000 s, one at now + 500 s with a 3 s interval: after C/R both expire at the same "
		       "instant as before (within 50 ms), settime flags (fdinfo) and interval are kept";
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
			*val = strtoll(line + len + 1, NULL, 8);
			found = 1;
		}
	fclose(f);
	return found ? 0 : -1;
}

static long long ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

static int check(int fd, long long at, long long interval, long long flags)
{
	struct itimerspec cur;
	struct timespec now;
	long long left, want, fl = -1;

	if (timerfd_gettime(fd, &cur) || clock_gettime(CLOCK_REALTIME, &now))
		return pr_perror("timerfd_gettime");
	left = ns(&cur.it_value);
	want = at - ns(&now);
	if (left - want > 50000000LL || want - left > 50000000LL) {
		fail("after C/R the timer expires in %lld ns, expected %lld (the same instant)", left, want);
		return 1;
	}
	if (ns(&cur.it_interval) != interval) {
		fail("interval %lld after C/R, expected %lld", ns(&cur.it_interval), interval);
		return 1;
	}
	if (fdinfo_int(fd, "settime flags", &fl) || fl != flags) {
		fail("settime flags %#llo after C/R, expected %#llo", fl, flags);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct itimerspec a = {}, b = {};
	struct timespec now;
	int fa, fb;

	test_init(argc, argv);

	fa = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	fb = timerfd_create(CLOCK_REALTIME, 0);
	if (fa < 0 || fb < 0)
		return pr_perror("timerfd_create");
	if (clock_gettime(CLOCK_REALTIME, &now))
		return pr_perror("clock_gettime");
	a.it_value.tv_sec = now.tv_sec + 1000;
	a.it_value.tv_nsec = 123456789;
	b.it_value.tv_sec = now.tv_sec + 500;
	b.it_interval.tv_sec = 3;
	if (timerfd_settime(fa, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &a, NULL) ||
	    timerfd_settime(fb, TFD_TIMER_ABSTIME, &b, NULL))
		return pr_perror("timerfd_settime");

	test_daemon();
	test_waitsig();

	if (check(fa, ns(&a.it_value), 0, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET) ||
	    check(fb, ns(&b.it_value), 3000000000LL, TFD_TIMER_ABSTIME))
		return 1;
	if (!(fcntl(fa, F_GETFL) & O_NONBLOCK) || (fcntl(fb, F_GETFL) & O_NONBLOCK)) {
		fail("O_NONBLOCK after C/R: %#x %#x", fcntl(fa, F_GETFL), fcntl(fb, F_GETFL));
		return 1;
	}
	pass();
	return 0;
}
