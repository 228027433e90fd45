#include <fcntl.h>
#include <poll.h>
#include <sys/timerfd.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "Timerfds that expired before the dump and were not read: a relative one-shot, an "
		       "absolute one-shot (CLOCK_MONOTONIC), and an interval timer (20 ms) that fired many times: "
		       "after C/R the one-shots read exactly 1 and are disarmed, the interval timer reads at least "
		       "as many expirations as had passed before the dump and keeps firing";
const char *test_author = "Stasis developers";

static long long fdinfo_ticks(int fd)
{
	char path[64], line[128];
	long long v = -1;
	FILE *f;

	ssprintf(path, "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		sscanf(line, "ticks: %lld", &v);
	fclose(f);
	return v;
}

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int one_shot(int fd, const char *what)
{
	struct itimerspec cur;
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v) || v != 1) {
		fail("the %s one-shot timer reads %llu after C/R, expected 1", what, (unsigned long long)v);
		return 1;
	}
	if (read(fd, &v, sizeof(v)) != -1 || errno != EAGAIN || timerfd_gettime(fd, &cur) ||
	    cur.it_value.tv_sec || cur.it_value.tv_nsec) {
		fail("the %s one-shot timer is not spent after its read", what);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct itimerspec rel = { .it_value = { 0, 1000000 } }, abs = {},
			  iv = { .it_value = { 0, 1000000 }, .it_interval = { 0, 20000000 } };
	long long start, end, expected;
	int frel, fabs, fiv;
	struct pollfd p;
	uint64_t v = 0;

	test_init(argc, argv);

	frel = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	fabs = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	fiv = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	if (frel < 0 || fabs < 0 || fiv < 0)
		return pr_perror("timerfd_create");
	clock_gettime(CLOCK_MONOTONIC, &abs.it_value);
	abs.it_value.tv_nsec += 2000000;
	if (abs.it_value.tv_nsec >= 1000000000) {
		abs.it_value.tv_nsec -= 1000000000;
		abs.it_value.tv_sec++;
	}
	start = now_ns();
	if (timerfd_settime(frel, 0, &rel, NULL) || timerfd_settime(fabs, TFD_TIMER_ABSTIME, &abs, NULL) ||
	    timerfd_settime(fiv, 0, &iv, NULL))
		return pr_perror("timerfd_settime");
	usleep(250000);
	if (fdinfo_ticks(frel) != 1 || fdinfo_ticks(fabs) != 1 || fdinfo_ticks(fiv) < 1)
		return pr_err("the timers have not fired: ticks %lld %lld %lld\n", fdinfo_ticks(frel),
			      fdinfo_ticks(fabs), fdinfo_ticks(fiv));
	end = now_ns();
	/* expirations at start + 1 ms + k * 20 ms that surely passed before the dump */
	expected = (end - start - 1000000) / 20000000 + 1;

	test_daemon();
	test_waitsig();

	if (one_shot(frel, "relative") || one_shot(fabs, "absolute"))
		return 1;
	if (read(fiv, &v, sizeof(v)) != sizeof(v) || (long long)v < expected) {
		fail("the interval timer reads %llu expirations after C/R, at least %lld had passed before",
		     (unsigned long long)v, expected);
		return 1;
	}
	p.fd = fiv;
	p.events = POLLIN;
	if (poll(&p, 1, 1000) != 1 || read(fiv, &v, sizeof(v)) != sizeof(v) || v < 1) {
		fail("the interval timer does not fire again within 1 s after C/R");
		return 1;
	}
	pass();
	return 0;
}
