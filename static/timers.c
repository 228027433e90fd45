#include <signal.h>
#include <sys/time.h>

#include "zdtmtst.h"

const char *test_doc = "Interval timers armed with intervals: ITIMER_REAL with SIGALRM blocked (it expired: "
		       "SIGALRM pending, the timer idle until the signal is taken), ITIMER_VIRTUAL and ITIMER_PROF "
		       "(they fire only while the test runs): after C/R each keeps its interval, SIGALRM is "
		       "pending and, taken, the real timer goes on; the CPU ones go on firing as the test burns CPU";
const char *test_author = "Stasis developers";

static const struct {
	int which, sig;
	long interval_us;
} tms[] = {
	{ ITIMER_REAL, SIGALRM, 10000 },
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

static long us(const struct timeval *tv)
{
	return tv->tv_sec * 1000000L + tv->tv_usec;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_RESTART };
	struct itimerval it;
	volatile unsigned long spin;
	sigset_t alrm, pend;
	int before[3];
	unsigned i;
	long j;

	test_init(argc, argv);

	sigemptyset(&sa.sa_mask);
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	if (sigprocmask(SIG_BLOCK, &alrm, NULL)) {
		pr_perror("sigprocmask");
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(tms); i++) {
		it.it_interval.tv_sec = tms[i].interval_us / 1000000;
		it.it_interval.tv_usec = tms[i].interval_us % 1000000;
		it.it_value = it.it_interval;
		if (sigaction(tms[i].sig, &sa, NULL) || setitimer(tms[i].which, &it, NULL)) {
			pr_perror("timer %u", i);
			return 1;
		}
	}
	/* the real timer expires once and waits for its signal to be taken */
	for (j = 0; j < 1000 && (sigpending(&pend) || !sigismember(&pend, SIGALRM)); j++)
		usleep(1000);
	if (!sigismember(&pend, SIGALRM)) {
		pr_err("SIGALRM is not pending\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < ARRAY_SIZE(tms); i++) {
		if (getitimer(tms[i].which, &it)) {
			fail("getitimer %u", i);
			return 1;
		}
		if (us(&it.it_interval) != tms[i].interval_us) {
			fail("timer %u: interval %ld us after C/R, expected %ld", i, us(&it.it_interval), tms[i].interval_us);
			return 1;
		}
		/* the kernel rounds to its tick: a remaining time up to one interval plus a tick (the real one
		 * may be 0: expired again, its signal still pending) */
		if (us(&it.it_value) > tms[i].interval_us + 10000 || (i && us(&it.it_value) == 0)) {
			fail("timer %u: %ld us left after C/R", i, us(&it.it_value));
			return 1;
		}
		before[i] = fired[i];
	}
	if (sigpending(&pend) || !sigismember(&pend, SIGALRM)) {
		fail("SIGALRM is not pending after C/R");
		return 1;
	}
	/* taken: the timer is armed again and fires on */
	if (sigprocmask(SIG_UNBLOCK, &alrm, NULL)) {
		fail("sigprocmask");
		return 1;
	}
	for (j = 0; j < 1000 && fired[0] < 3; j++)
		usleep(1000);
	if (fired[0] < 3) {
		fail("the real timer fired %d times in a second after C/R", fired[0]);
		return 1;
	}
	/* burn CPU time for the virtual and profiling timers */
	for (j = 0; j < 400 && (fired[1] <= before[1] || fired[2] <= before[2]); j++)
		for (spin = 0; spin < 1000000; spin++)
			;
	for (i = 1; i < ARRAY_SIZE(tms); i++)
		if (fired[i] <= before[i]) {
			fail("timer %u did not fire after C/R", i);
			return 1;
		}
	pass();
	return 0;
}
