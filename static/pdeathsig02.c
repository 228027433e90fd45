#include <signal.h>
#include <sys/prctl.h>

#include "zdtmtst.h"

const char *test_doc = "The root of the tree has a parent-death signal: after C/R it is still set and the signal "
		       "came only for the launcher's exit, never during C/R";
const char *test_author = "Stasis developers";

#define PDEATH (SIGRTMIN + 2)

static volatile sig_atomic_t pdeaths;

static void on_usr1(int sig)
{
	pdeaths++;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	pid_t ppid;
	int sig = -1, expected;
	sigset_t set;

	test_init(argc, argv);

	sigemptyset(&sa.sa_mask);
	if (sigaction(PDEATH, &sa, NULL)) {
		pr_perror("sigaction");
		return 1;
	}
	/*
	 * Set before test_daemon(): the program's state is whole when it says it is ready. The signal is
	 * a queued (real-time) one and blocked: each parent death leaves one pending instance, counted after
	 * C/R, and nothing runs while the harness looks at the state.
	 */
	sigemptyset(&set);
	sigaddset(&set, PDEATH);
	if (sigprocmask(SIG_BLOCK, &set, NULL)) {
		pr_perror("sigprocmask");
		return 1;
	}
	if (prctl(PR_SET_PDEATHSIG, PDEATH, 0, 0, 0)) {
		pr_perror("PR_SET_PDEATHSIG");
		return 1;
	}
	if (prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) || sig != PDEATH) {
		pr_err("PR_GET_PDEATHSIG gives %d right after setting it\n", sig);
		return 1;
	}
	ppid = getppid();

	test_daemon();

	test_waitsig();

	if (sigprocmask(SIG_UNBLOCK, &set, NULL)) { /* every pending instance is handled now */
		fail("sigprocmask");
		return 1;
	}
	sig = -1;
	if (prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0)) {
		fail("PR_GET_PDEATHSIG");
		return 1;
	}
	if (sig != PDEATH) {
		fail("parent-death signal is %d, expected %d", sig, PDEATH);
		return 1;
	}
	/* in flavor h the launcher exits after test_daemon(): that parent death is the one signal expected */
	expected = getppid() != ppid;
	if (pdeaths != expected) {
		fail("the parent-death signal was received %d time(s), expected %d (parent %d, was %d)", (int)pdeaths,
		     expected, getppid(), ppid);
		return 1;
	}
	pass();
	return 0;
}
