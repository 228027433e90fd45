#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "Check that ITIMER_REAL/VIRTUAL/PROF survive C/R: intervals equal, values not grown, REAL still fires";
const char *test_author = "Stasis developers";

static const char *names[] = { "REAL", "VIRTUAL", "PROF" };
static const struct itimerval setting[] = {
	{ .it_interval = { 1800, 250000 }, .it_value = { 3600, 500000 } },
	{ .it_interval = { 500, 0 }, .it_value = { 1000, 0 } },
	{ .it_interval = { 700, 100000 }, .it_value = { 2000, 0 } },
};
static volatile sig_atomic_t alarms, vtalarms, profs;

static void on_alarm(int sig)
{
	if (sig == SIGALRM)
		alarms++;
	else if (sig == SIGVTALRM)
		vtalarms++;
	else
		profs++;
}

static long long tv_us(const struct timeval *tv)
{
	return tv->tv_sec * 1000000LL + tv->tv_usec;
}

static long long mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
	struct itimerval before[3], after, quick = { .it_interval = { 0, 0 }, .it_value = { 0, 50000 } };
	struct sigaction sa;
	long long t0, elapsed, deadline;
	int i, bad = 0;

	test_init(argc, argv);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) || sigaction(SIGVTALRM, &sa, NULL) || sigaction(SIGPROF, &sa, NULL)) {
		pr_perror("sigaction");
		return 1;
	}
	for (i = 0; i < 3; i++) {
		if (setitimer(i, &setting[i], NULL)) {
			pr_perror("setitimer(%s)", names[i]);
			return 1;
		}
	}
	/* The kernel may round the values: compare with what it reports, not with what was asked */
	for (i = 0; i < 3; i++) {
		if (getitimer(i, &before[i])) {
			pr_perror("getitimer(%s)", names[i]);
			return 1;
		}
		test_msg("%s: interval %lld us, value %lld us\n", names[i], tv_us(&before[i].it_interval),
			 tv_us(&before[i].it_value));
	}
	t0 = mono_us();

	test_daemon();
	test_waitsig();

	elapsed = mono_us() - t0;
	if (alarms || vtalarms || profs) {
		fail("a timer fired during the test: SIGALRM %d SIGVTALRM %d SIGPROF %d", (int)alarms, (int)vtalarms,
		     (int)profs);
		return 1;
	}
	/* Every mismatch is reported (not only the first), then the REAL timer is made to fire anyway */
	for (i = 0; i < 3; i++) {
		if (getitimer(i, &after)) {
			fail("getitimer(%s)", names[i]);
			return 1;
		}
		test_msg("%s now: interval %lld us, value %lld us\n", names[i], tv_us(&after.it_interval),
			 tv_us(&after.it_value));
		if (tv_us(&after.it_interval) != tv_us(&before[i].it_interval)) {
			fail("ITIMER_%s interval is %lld us, was %lld us", names[i], tv_us(&after.it_interval),
			     tv_us(&before[i].it_interval));
			bad++;
		}
		if (tv_us(&after.it_value) <= 0 || tv_us(&after.it_value) > tv_us(&before[i].it_value)) {
			fail("ITIMER_%s value is %lld us, was %lld us (must be > 0 and not larger)", names[i],
			     tv_us(&after.it_value), tv_us(&before[i].it_value));
			bad++;
		}
		/* Wall-clock time has passed for REAL: it cannot have run backwards or slower than the clock */
		if (i == ITIMER_REAL && tv_us(&after.it_value) < tv_us(&before[i].it_value) - elapsed - 100000) {
			fail("ITIMER_REAL value %lld us, but only %lld us passed since it was %lld us",
			     tv_us(&after.it_value), elapsed, tv_us(&before[i].it_value));
			bad++;
		}
	}

	/* The restored REAL timer must still be armed in the kernel and deliver to the handler */
	if (setitimer(ITIMER_REAL, &quick, &after)) {
		fail("setitimer(REAL, 50 ms)");
		return 1;
	}
	deadline = mono_us() + 3000000;
	while (!alarms && mono_us() < deadline)
		usleep(10000);
	if (alarms != 1) {
		fail("SIGALRM handler ran %d times after re-arming ITIMER_REAL for 50 ms, expected 1", (int)alarms);
		return 1;
	}
	if (getitimer(ITIMER_REAL, &after) || tv_us(&after.it_value) != 0) {
		fail("ITIMER_REAL is still armed (%lld us) after a one-shot expiry", tv_us(&after.it_value));
		return 1;
	}
	if (bad)
		return 1;

	pass();
	return 0;
}
