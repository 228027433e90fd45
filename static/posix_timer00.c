#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

#include "zdtmtst.h"
#include "lock.h"

const char *test_doc = "POSIX timers keep their ids, clocks, notifications (signal with value, SIGEV_NONE, a "
		       "thread's SIGEV_THREAD_ID), intervals and remaining times across C/R, and keep firing";
const char *test_author = "Stasis developers";

#define NR 5
#define SIG_A (SIGRTMIN + 3)
#define SIG_T (SIGRTMIN + 4)

static timer_t ids[NR];
static volatile sig_atomic_t fired_a, fired_t, bad_value;
static volatile pid_t thread_tid;
static futex_t ready; /* the thread has its tid and its signal mask */
static pthread_t th;

static void on_a(int sig, siginfo_t *si, void *uc)
{
	if (si->si_value.sival_int != 0x5eed)
		bad_value = 1;
	fired_a++;
}

static void on_t(int sig, siginfo_t *si, void *uc)
{
	if (syscall(SYS_gettid) != thread_tid)
		bad_value = 2;
	fired_t++;
}

static void *thread_main(void *arg)
{
	sigset_t set;

	thread_tid = syscall(SYS_gettid);
	sigemptyset(&set);
	sigaddset(&set, SIG_A);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* SIG_A goes to the main thread */
	futex_set_and_wake(&ready, 1);
	while (1)
		pause();
	return NULL;
}

static int make(int i, clockid_t clock, int notify, int sig, int value)
{
	struct sigevent sev = {};

	sev.sigev_notify = notify;
	sev.sigev_signo = sig;
	sev.sigev_value.sival_int = value;
	if (notify == SIGEV_THREAD_ID)
		sev._sigev_un._tid = thread_tid;
	if (timer_create(clock, &sev, &ids[i])) {
		pr_perror("timer_create %d", i);
		return -1;
	}
	return 0;
}

static int arm(int i, long value_ms, long interval_ms)
{
	struct itimerspec its = {
		.it_value = { value_ms / 1000, (value_ms % 1000) * 1000000 },
		.it_interval = { interval_ms / 1000, (interval_ms % 1000) * 1000000 },
	};

	return timer_settime(ids[i], 0, &its, NULL);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_flags = SA_SIGINFO | SA_RESTART };
	struct itimerspec before[NR], after[NR];
	timer_t spare;
	int i, a0, t0;

	test_init(argc, argv);

	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = on_a;
	sigaction(SIG_A, &sa, NULL);
	sa.sa_sigaction = on_t;
	sigaction(SIG_T, &sa, NULL);
	if (pthread_create(&th, NULL, thread_main, NULL)) {
		pr_err("pthread_create\n");
		return 1;
	}
	futex_wait_until(&ready, 1);

	/* ids 0..4, then one more deleted so that the ids have a hole at 4 and the next is 5 */
	if (make(0, CLOCK_MONOTONIC, SIGEV_SIGNAL, SIG_A, 0x5eed) || make(1, CLOCK_REALTIME, SIGEV_NONE, 0, 0) ||
	    make(2, CLOCK_BOOTTIME, SIGEV_THREAD_ID, SIG_T, 7) || make(3, CLOCK_MONOTONIC, SIGEV_NONE, 0, 0) ||
	    timer_create(CLOCK_MONOTONIC, NULL, &spare) || timer_delete(spare) ||
	    make(4, CLOCK_MONOTONIC, SIGEV_SIGNAL, SIG_A, 0x5eed))
		return 1;
	/* 0: periodic (signal); 1: armed far away; 2: periodic to the thread; 3: disarmed; 4: one-shot */
	/* signal timers armed far away: no signal may be pending while the harness compares the state */
	if (arm(0, 3600 * 1000, 50) || arm(1, 3600 * 1000, 0) || arm(2, 3600 * 1000, 70) || arm(4, 3600 * 1000, 0)) {
		pr_perror("timer_settime");
		return 1;
	}
	for (i = 0; i < NR; i++)
		timer_gettime(ids[i], &before[i]);

	test_daemon();
	test_waitsig();

	for (i = 0; i < NR; i++) {
		if (timer_gettime(ids[i], &after[i])) {
			fail("timer %ld (#%d) is gone after C/R", (long)(intptr_t)ids[i], i);
			return 1;
		}
		if (after[i].it_interval.tv_sec != before[i].it_interval.tv_sec ||
		    after[i].it_interval.tv_nsec != before[i].it_interval.tv_nsec) {
			fail("timer #%d: interval %ld.%09ld, was %ld.%09ld", i, after[i].it_interval.tv_sec,
			     after[i].it_interval.tv_nsec, before[i].it_interval.tv_sec, before[i].it_interval.tv_nsec);
			return 1;
		}
		if (!!(after[i].it_value.tv_sec | after[i].it_value.tv_nsec) !=
		    !!(before[i].it_value.tv_sec | before[i].it_value.tv_nsec)) {
			fail("timer #%d: armed %d, was %d", i, !!(after[i].it_value.tv_sec | after[i].it_value.tv_nsec),
			     !!(before[i].it_value.tv_sec | before[i].it_value.tv_nsec));
			return 1;
		}
	}
	/* the far-away one-shots keep (about) their time left: at most what it was */
	for (i = 1; i <= 4; i += 3)
		if (after[i].it_value.tv_sec > before[i].it_value.tv_sec || after[i].it_value.tv_sec < 3000) {
			fail("timer #%d: %ld s left, was %ld s", i, after[i].it_value.tv_sec, before[i].it_value.tv_sec);
			return 1;
		}
	if ((intptr_t)ids[4] != 5) {
		fail("the timer created after a deleted one has id %ld, expected 5", (long)(intptr_t)ids[4]);
		return 1;
	}
	/* the periodic ones still fire, with their value and to their thread */
	a0 = fired_a;
	t0 = fired_t;
	if (arm(0, 10, 50) || arm(2, 10, 70)) {
		fail("timer_settime after C/R");
		return 1;
	}
	for (i = 0; i < 100 && (fired_a - a0 < 2 || fired_t - t0 < 2); i++)
		usleep(10000);
	if (fired_a - a0 < 2 || fired_t - t0 < 2 || bad_value) {
		fail("after C/R: %d signals of timer 0, %d of timer 2 (thread), bad value/thread %d", fired_a - a0,
		     fired_t - t0, bad_value);
		return 1;
	}
	/* a timer created now gets the next id the kernel hands out: 6 */
	if (timer_create(CLOCK_MONOTONIC, NULL, &spare) || (intptr_t)spare != 6) {
		fail("a new timer has id %ld, expected 6", (long)(intptr_t)spare);
		return 1;
	}
	pass();
	return 0;
}
