#include <signal.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "POSIX timers of several clocks (CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME), "
		       "periodic and one-shot, with SIGEV_SIGNAL and their sigev_value: after C/R each has its "
		       "interval, a remaining time no larger than it was set to that goes down as its clock "
		       "goes, and, armed again, each fires with its own signal and value";
const char *test_author = "Stasis developers";

struct tm_desc {
	clockid_t clk;
	long interval_ms, value_ms;
	timer_t id;
	volatile int fired;
};

/* none fires before the test re-arms it: a signal in flight would make the visible state a matter of luck */
static struct tm_desc tms[] = {
	{ CLOCK_REALTIME, 40000, 300000 },
	{ CLOCK_MONOTONIC, 50000, 200000 },
	{ CLOCK_BOOTTIME, 0, 600000 },
	{ CLOCK_MONOTONIC, 0, 500000 },
};

static void handler(int sig, siginfo_t *si, void *uc)
{
	unsigned i = si->si_value.sival_int;

	if (si->si_code == SI_TIMER && i < ARRAY_SIZE(tms))
		tms[i].fired++;
}

static struct timespec ms(long v)
{
	struct timespec t = { v / 1000, (v % 1000) * 1000000 };
	return t;
}

static long to_ms(struct timespec *t)
{
	return t->tv_sec * 1000 + t->tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = handler, .sa_flags = SA_SIGINFO | SA_RESTART };
	struct itimerspec its, before[ARRAY_SIZE(tms)];
	unsigned i;
	int before_fired[ARRAY_SIZE(tms)];

	test_init(argc, argv);

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGRTMIN + 1, &sa, NULL)) {
		pr_perror("sigaction");
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(tms); i++) {
		struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN + 1 };

		sev.sigev_value.sival_int = i;
		if (timer_create(tms[i].clk, &sev, &tms[i].id)) {
			pr_perror("timer_create %u", i);
			return 1;
		}
		its.it_interval = ms(tms[i].interval_ms);
		its.it_value = ms(tms[i].value_ms);
		if (timer_settime(tms[i].id, 0, &its, NULL)) {
			pr_perror("timer_settime %u", i);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < ARRAY_SIZE(tms); i++) {
		if (timer_gettime(tms[i].id, &before[i])) {
			fail("timer_gettime %u", i);
			return 1;
		}
		if (to_ms(&before[i].it_interval) != tms[i].interval_ms) {
			fail("timer %u: interval %ld ms after C/R, expected %ld", i, to_ms(&before[i].it_interval),
			     tms[i].interval_ms);
			return 1;
		}
		if ((!before[i].it_value.tv_sec && !before[i].it_value.tv_nsec) ||
		    to_ms(&before[i].it_value) > tms[i].value_ms) {
			fail("timer %u: %ld ms left after C/R, set to %ld", i, to_ms(&before[i].it_value), tms[i].value_ms);
			return 1;
		}
	}
	usleep(100000);
	for (i = 0; i < ARRAY_SIZE(tms); i++) {
		long went;

		if (timer_gettime(tms[i].id, &its)) {
			fail("timer_gettime %u", i);
			return 1;
		}
		went = to_ms(&before[i].it_value) - to_ms(&its.it_value);
		if (went < 90 || went > 5000) {
			fail("timer %u went %ld ms in 100 ms after C/R", i, went);
			return 1;
		}
	}
	/* armed again with what C/R gave back of each: its clock, signal and value */
	for (i = 0; i < ARRAY_SIZE(tms); i++) {
		before_fired[i] = tms[i].fired;
		its.it_interval = ms(0);
		its.it_value = ms(5);
		if (timer_settime(tms[i].id, 0, &its, NULL)) {
			fail("timer_settime %u", i);
			return 1;
		}
	}
	for (i = 0; i < 200; i++) {
		unsigned k, all = 1;

		for (k = 0; k < ARRAY_SIZE(tms); k++)
			all &= tms[k].fired == before_fired[k] + 1;
		if (all)
			break;
		usleep(5000);
	}
	usleep(20000); /* a one-shot timer fires once: nothing more comes */
	for (i = 0; i < ARRAY_SIZE(tms); i++)
		if (tms[i].fired != before_fired[i] + 1) {
			fail("timer %u fired %d times once armed again after C/R", i, tms[i].fired - before_fired[i]);
			return 1;
		}
	pass();
	return 0;
}
