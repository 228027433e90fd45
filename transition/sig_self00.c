#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Sends itself SIGUSR1 and queued SIGRTMIN with values, partly while they are blocked "
		       "(pending across C/R); every signal sent must be handled exactly once, RT ones in order";
const char *test_author = "Stasis developers";

#define RT_BATCH 3

static volatile uint64_t usr1_handled, rt_handled;
static volatile int rt_bad;
static pid_t me;

static void usr1(int sig)
{
	usr1_handled++;
}

static void rt(int sig, siginfo_t *info, void *ctx)
{
	/* RT signals of one number are delivered in the order they were queued. */
	if (info->si_code != SI_QUEUE || info->si_pid != me || (uint64_t)info->si_value.sival_int != (uint32_t)rt_handled)
		rt_bad = 1;
	rt_handled++;
}

int main(int argc, char **argv)
{
	uint64_t usr1_sent = 0, rt_sent = 0, rounds = 0;
	struct timespec ms = { 0, 1000000 };
	struct sigaction sa = {};
	sigset_t block, pending;
	int i;

	test_init(argc, argv);
	me = getpid();

	sa.sa_handler = usr1;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGUSR1, &sa, NULL)) {
		pr_perror("sigaction SIGUSR1");
		return 1;
	}
	sa.sa_sigaction = rt;
	sa.sa_flags = SA_RESTART | SA_SIGINFO;
	if (sigaction(SIGRTMIN, &sa, NULL)) {
		pr_perror("sigaction SIGRTMIN");
		return 1;
	}
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGRTMIN);

	test_daemon();

	while (test_go()) {
		union sigval v;

		/* Unblocked: delivered before kill() returns to us. */
		if (kill(me, SIGUSR1)) {
			fail("kill");
			return 1;
		}
		usr1_sent++;
		if (usr1_handled != usr1_sent) {
			fail("sent %llu SIGUSR1, handled %llu", (unsigned long long)usr1_sent,
			     (unsigned long long)usr1_handled);
			return 1;
		}

		/* Blocked: they stay pending for a while (possibly over a dump). */
		sigprocmask(SIG_BLOCK, &block, NULL);
		kill(me, SIGUSR1);
		usr1_sent++;
		for (i = 0; i < RT_BATCH; i++) {
			v.sival_int = (int)(uint32_t)rt_sent;
			if (sigqueue(me, SIGRTMIN, v)) {
				fail("sigqueue");
				return 1;
			}
			rt_sent++;
		}
		nanosleep(&ms, NULL);
		if (sigpending(&pending) || !sigismember(&pending, SIGUSR1) || !sigismember(&pending, SIGRTMIN)) {
			fail("blocked signals are not pending (round %llu)", (unsigned long long)rounds);
			return 1;
		}
		if (usr1_handled != usr1_sent - 1 || rt_handled != rt_sent - RT_BATCH) {
			fail("a blocked signal was handled");
			return 1;
		}
		sigprocmask(SIG_UNBLOCK, &block, NULL);
		if (usr1_handled != usr1_sent || rt_handled != rt_sent || rt_bad) {
			fail("after unblocking: SIGUSR1 sent %llu handled %llu, RT sent %llu handled %llu, order %s",
			     (unsigned long long)usr1_sent, (unsigned long long)usr1_handled,
			     (unsigned long long)rt_sent, (unsigned long long)rt_handled, rt_bad ? "wrong" : "ok");
			return 1;
		}
		rounds++;
	}

	test_msg("%llu rounds: %llu SIGUSR1, %llu SIGRTMIN\n", (unsigned long long)rounds,
		 (unsigned long long)usr1_sent, (unsigned long long)rt_sent);
	if (!rounds || usr1_handled != usr1_sent || rt_handled != rt_sent || rt_bad) {
		fail("final counts: SIGUSR1 %llu/%llu, RT %llu/%llu", (unsigned long long)usr1_handled,
		     (unsigned long long)usr1_sent, (unsigned long long)rt_handled, (unsigned long long)rt_sent);
		return 1;
	}
	pass();
	return 0;
}
