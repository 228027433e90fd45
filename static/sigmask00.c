#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that the blocked signal mask survives C/R and still holds signals back";
const char *test_author = "Stasis developers";

#define NSIG_MAX 64

static volatile sig_atomic_t hits[NSIG_MAX + 1];

static void handler(int sig)
{
	hits[sig]++;
}

/* The kernel's view: a "Sig...:" line of /proc/self/status, as a 64-bit mask */
static int status_mask(const char *key, unsigned long long *mask)
{
	char line[256], fmt[32];
	FILE *f;
	int ret = -1;

	ssprintf(fmt, "%s: %%llx", key);
	f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, fmt, mask) == 1) {
			ret = 0;
			break;
		}
	fclose(f);
	return ret;
}

static int mask_differs(const sigset_t *a, const sigset_t *b)
{
	int i;

	for (i = 1; i <= NSIG_MAX; i++)
		if (sigismember(a, i) != sigismember(b, i))
			return i;
	return 0;
}

int main(int argc, char **argv)
{
	const int blocked[] = { SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGWINCH, SIGURG };
	const int rt_blocked[] = { 0, 7, 20 }; /* offsets from SIGRTMIN, plus SIGRTMAX below */
	struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_RESTART };
	unsigned long long blk_before, blk_after;
	sigset_t set, before, now, pending;
	union sigval val;
	size_t i;
	int sig;

	test_init(argc, argv);

	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	for (i = 0; i < ARRAY_SIZE(blocked); i++)
		sigaddset(&set, blocked[i]);
	for (i = 0; i < ARRAY_SIZE(rt_blocked); i++)
		sigaddset(&set, SIGRTMIN + rt_blocked[i]);
	sigaddset(&set, SIGRTMAX);
	for (sig = 1; sig <= NSIG_MAX; sig++) {
		if (!sigismember(&set, sig))
			continue;
		if (sigaction(sig, &sa, NULL)) {
			pr_perror("sigaction(%d)", sig);
			return 1;
		}
	}

	if (sigprocmask(SIG_BLOCK, &set, NULL) || sigprocmask(SIG_BLOCK, NULL, &before)) {
		pr_perror("sigprocmask");
		return 1;
	}
	if (status_mask("SigBlk", &blk_before)) {
		pr_err("no SigBlk in /proc/self/status\n");
		return 1;
	}
	if (sigpending(&pending) || !sigisemptyset(&pending)) {
		pr_err("signals are pending before the test starts\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (sigprocmask(SIG_BLOCK, NULL, &now)) {
		fail("sigprocmask");
		return 1;
	}
	sig = mask_differs(&before, &now);
	if (sig) {
		fail("signal %d was %sblocked, now it is%s", sig, sigismember(&before, sig) ? "" : "not ",
		     sigismember(&now, sig) ? "" : " not");
		return 1;
	}
	if (status_mask("SigBlk", &blk_after) || blk_after != blk_before) {
		fail("SigBlk in /proc/self/status was %016llx, now %016llx", blk_before, blk_after);
		return 1;
	}
	/* Nothing was sent, so nothing may be pending (a restore must not invent signals) */
	if (sigpending(&pending)) {
		fail("sigpending");
		return 1;
	}
	for (sig = 1; sig <= NSIG_MAX; sig++)
		if (sig != 32 && sig != 33 && sigismember(&pending, sig)) {
			fail("signal %d is pending, nobody sent it", sig);
			return 1;
		}

	/* A blocked signal must stay pending, not be delivered */
	val.sival_int = 1;
	if (raise(SIGUSR1) || sigqueue(getpid(), SIGRTMIN + 7, val) || sigqueue(getpid(), SIGRTMIN + 7, val)) {
		fail("cannot send signals to myself");
		return 1;
	}
	if (hits[SIGUSR1] || hits[SIGRTMIN + 7]) {
		fail("a blocked signal was delivered");
		return 1;
	}
	if (sigpending(&pending) || !sigismember(&pending, SIGUSR1) || !sigismember(&pending, SIGRTMIN + 7)) {
		fail("SIGUSR1 or SIGRTMIN+7 is not pending while blocked");
		return 1;
	}

	/* Unblocking delivers them: SIGUSR1 once, the real-time signal queued twice */
	if (sigprocmask(SIG_UNBLOCK, &set, NULL)) {
		fail("sigprocmask(SIG_UNBLOCK)");
		return 1;
	}
	if (hits[SIGUSR1] != 1 || hits[SIGRTMIN + 7] != 2) {
		fail("after unblocking: SIGUSR1 handled %d times (expected 1), SIGRTMIN+7 %d times (expected 2)",
		     (int)hits[SIGUSR1], (int)hits[SIGRTMIN + 7]);
		return 1;
	}

	pass();
	return 0;
}
