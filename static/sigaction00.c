#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that signal dispositions (handlers, SIG_IGN, SIG_DFL, sa_flags, sa_mask) survive C/R and work";
const char *test_author = "Stasis developers";

#define NSIG_MAX 64
#define RT_SIG (SIGRTMIN + 2)
#define RT_VALUE 0x5eed

static volatile sig_atomic_t hits[NSIG_MAX + 1];
static volatile int info_code, info_value, info_pid;
static sigset_t mask_in_handler;

static void plain_handler(int sig)
{
	hits[sig]++;
	sigprocmask(SIG_BLOCK, NULL, &mask_in_handler);
}

static void info_handler(int sig, siginfo_t *si, void *uc)
{
	hits[sig]++;
	info_code = si->si_code;
	info_pid = si->si_pid;
	info_value = si->si_value.sival_int;
	sigprocmask(SIG_BLOCK, NULL, &mask_in_handler);
}

/* Signals the test must not touch: uncatchable, glibc-internal (32, 33), the library's SIGTERM */
static int untouchable(int sig)
{
	return sig == SIGKILL || sig == SIGSTOP || sig == 32 || sig == 33 || sig == SIGTERM;
}

/* Synchronous fault signals keep a default action, so a real fault still kills the test */
static int fault_sig(int sig)
{
	return sig == SIGILL || sig == SIGTRAP || sig == SIGBUS || sig == SIGFPE || sig == SIGSEGV || sig == SIGSYS;
}

static void setup_action(int sig, struct sigaction *sa)
{
	memset(sa, 0, sizeof(*sa));
	sigemptyset(&sa->sa_mask);

	switch (sig % 5) {
	case 0:
		sa->sa_handler = SIG_IGN;
		break;
	case 1:
		sa->sa_handler = SIG_DFL;
		sa->sa_flags = SA_RESTART;
		break;
	case 2:
		sa->sa_handler = plain_handler;
		sa->sa_flags = SA_RESTART;
		sigaddset(&sa->sa_mask, sig % 31 + 1);
		break;
	case 3:
		sa->sa_sigaction = info_handler;
		sa->sa_flags = SA_SIGINFO | SA_NODEFER;
		sigaddset(&sa->sa_mask, SIGRTMAX - sig % 7);
		break;
	case 4:
		sa->sa_sigaction = info_handler;
		sa->sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
		sigfillset(&sa->sa_mask);
		break;
	}
	if (fault_sig(sig)) {
		sa->sa_handler = SIG_DFL;
		sa->sa_flags = SA_NODEFER;
	}

	/* Signals that are delivered after C/R get fixed, well-known actions */
	if (sig == SIGUSR1) {
		sa->sa_sigaction = info_handler;
		sa->sa_flags = SA_SIGINFO | SA_RESTART;
		sigemptyset(&sa->sa_mask);
		sigaddset(&sa->sa_mask, SIGUSR2);
		sigaddset(&sa->sa_mask, SIGWINCH);
		sigaddset(&sa->sa_mask, SIGRTMIN + 5);
	} else if (sig == SIGUSR2) {
		sa->sa_handler = plain_handler;
		sa->sa_flags = SA_NODEFER | SA_RESETHAND;
		sigemptyset(&sa->sa_mask);
	} else if (sig == SIGHUP || sig == SIGPIPE) {
		sa->sa_handler = SIG_IGN;
	} else if (sig == SIGCHLD) {
		sa->sa_handler = plain_handler;
		sa->sa_flags = SA_NOCLDSTOP | SA_RESTART;
	} else if (sig == RT_SIG) {
		sa->sa_sigaction = info_handler;
		sa->sa_flags = SA_SIGINFO;
		sigemptyset(&sa->sa_mask);
		sigaddset(&sa->sa_mask, SIGQUIT);
	}
}

static int same_action(int sig, const struct sigaction *a, const struct sigaction *b)
{
	int i;

	if (a->sa_handler != b->sa_handler || a->sa_flags != b->sa_flags || a->sa_restorer != b->sa_restorer) {
		fail("signal %d: handler %p/%p flags %#x/%#x restorer %p/%p (before/after)", sig,
		     (void *)a->sa_handler, (void *)b->sa_handler, a->sa_flags, b->sa_flags, (void *)a->sa_restorer,
		     (void *)b->sa_restorer);
		return 0;
	}
	for (i = 1; i <= NSIG_MAX; i++) {
		if (i == 32 || i == 33)
			continue;
		if (sigismember(&a->sa_mask, i) != sigismember(&b->sa_mask, i)) {
			fail("signal %d: sa_mask bit %d was %d, now %d", sig, i, sigismember(&a->sa_mask, i),
			     sigismember(&b->sa_mask, i));
			return 0;
		}
	}
	return 1;
}

int main(int argc, char **argv)
{
	static struct sigaction before[NSIG_MAX + 1];
	struct sigaction sa, now;
	union sigval val;
	int sig;

	test_init(argc, argv);

	for (sig = 1; sig <= NSIG_MAX; sig++) {
		if (untouchable(sig))
			continue;
		setup_action(sig, &sa);
		if (sigaction(sig, &sa, NULL)) {
			pr_perror("sigaction(%d)", sig);
			return 1;
		}
	}
	for (sig = 1; sig <= NSIG_MAX; sig++) {
		if (sig == 32 || sig == 33)
			continue;
		if (sigaction(sig, NULL, &before[sig])) {
			pr_perror("sigaction(%d, query)", sig);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	for (sig = 1; sig <= NSIG_MAX; sig++) {
		if (sig == 32 || sig == 33)
			continue;
		memset(&now, 0, sizeof(now));
		if (sigaction(sig, NULL, &now)) {
			fail("sigaction(%d, query)", sig);
			return 1;
		}
		if (!same_action(sig, &before[sig], &now))
			return 1;
	}

	/* The kernel must deliver through the restored actions, too */
	if (raise(SIGUSR1) || hits[SIGUSR1] != 1) {
		fail("SIGUSR1 handler ran %d times, expected 1", (int)hits[SIGUSR1]);
		return 1;
	}
	if (info_code != SI_TKILL || info_pid != getpid()) {
		fail("SIGUSR1 siginfo: code %d pid %d, expected %d %d", info_code, info_pid, SI_TKILL, getpid());
		return 1;
	}
	if (!sigismember(&mask_in_handler, SIGUSR1) || !sigismember(&mask_in_handler, SIGUSR2) ||
	    !sigismember(&mask_in_handler, SIGWINCH) || !sigismember(&mask_in_handler, SIGRTMIN + 5) ||
	    sigismember(&mask_in_handler, SIGQUIT)) {
		fail("the mask inside the SIGUSR1 handler does not follow its sa_mask");
		return 1;
	}

	if (raise(SIGUSR2) || hits[SIGUSR2] != 1) {
		fail("SIGUSR2 handler ran %d times, expected 1", (int)hits[SIGUSR2]);
		return 1;
	}
	if (sigismember(&mask_in_handler, SIGUSR2)) {
		fail("SIGUSR2 is blocked inside its own SA_NODEFER handler");
		return 1;
	}
	if (sigaction(SIGUSR2, NULL, &now) || now.sa_handler != SIG_DFL) {
		fail("SA_RESETHAND did not reset SIGUSR2 to SIG_DFL");
		return 1;
	}

	if (raise(SIGHUP) || raise(SIGPIPE)) {
		fail("raise of an ignored signal");
		return 1;
	}

	val.sival_int = RT_VALUE;
	if (sigqueue(getpid(), RT_SIG, val) || hits[RT_SIG] != 1) {
		fail("signal %d handler ran %d times, expected 1", RT_SIG, (int)hits[RT_SIG]);
		return 1;
	}
	if (info_code != SI_QUEUE || info_value != RT_VALUE) {
		fail("signal %d siginfo: code %d value %#x", RT_SIG, info_code, info_value);
		return 1;
	}
	if (!sigismember(&mask_in_handler, SIGQUIT) || !sigismember(&mask_in_handler, RT_SIG)) {
		fail("the mask inside the signal %d handler does not follow its sa_mask", RT_SIG);
		return 1;
	}

	pass();
	return 0;
}
