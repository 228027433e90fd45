#include <signal.h>
#include <sys/time.h>

#include "zdtmtst.h"

const char *test_doc = "Interval timers ITIMER_REAL, ITIMER_VIRTUAL and ITIMER_PROF armed with intervals: after "
		       "C/R each keeps its interval and a remaining time within it, and each goes on firing";
const char *test_author = "Stasis developers";

static const struct {
	int which, sig;
	long interval_us;
} tms[] = {
	{ ITIMER_REAL, SIGALRM, 20000 },
	{ ITIMER_VIRTUAL, SIGVTALRM, 5000 },
	{ ITIMER_PROF, SIGPROF, 7000 },
};

static volatile int fired[3];

static void handler(int sig)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(tms); i++)
		if (tms[i].sig == sig)
			fired[i]++;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_RESTART };
	struct itimerval it;
	volatile unsigned long spin;
	int before[3];
	unsigned i;
	long j;

	test_init(argc, argv);

	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(tms); i++) {
		it.it_interval.tv_sec = 0;
		it.it_interval.tv_usec = tms[i].interval_us;
		it.it_value = it.it_interval;
		if (sigaction(tms[i].sig, &sa, NULL) || setitimer(tms[i].which, &it, NULL)) {
			pr_perror("timer %u", i);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < ARRAY_SIZE(tms); i++) {
		if (getitimer(tms[i].which, &it)) {
			fail("getitimer %u", i);
			return 1;
		}
		if (it.it_interval.tv_sec || it.it_interval.tv_usec != tms[i].interval_us) {
			fail("timer %u: interval %ld.%06ld after C/R, expected 0.%06ld", i, (long)it.it_interval.tv_sec,
			     (long)it.it_interval.tv_usec, tms[i].interval_us);
			return 1;
		}
		/* the kernel rounds to its tick: a remaining time up to one interval plus a tick */
		if (it.it_value.tv_sec || it.it_value.tv_usec > tms[i].interval_us + 10000 ||
		    (!it.it_value.tv_sec && !it.it_value.tv_usec)) {
			fail("timer %u: %ld.%06ld left after C/R", i, (long)it.it_value.tv_sec, (long)it.it_value.tv_usec);
			return 1;
		}
		before[i] = fired[i];
	}
	/* burn CPU time for the virtual and profiling timers; wall time for the real one */
	for (j = 0; j < 400 && (fired[0] <= before[0] || fired[1] <= before[1] || fired[2] <= before[2]); j++)
		for (spin = 0; spin < 1000000; spin++)
			;
	for (i = 0; i < ARRAY_SIZE(tms); i++)
		if (fired[i] <= before[i]) {
			fail("timer %u did not fire after C/R", i);
			return 1;
		}
	pass();
	return 0;
}
