#include <signal.h>
#include <sys/prctl.h>

#include "zdtmtst.h"

const char *test_doc = "Check that the parent-death signal (PR_SET_PDEATHSIG) survives C/R";
const char *test_author = "Stasis developers";

#define PDEATH_SIG SIGUSR2

static volatile sig_atomic_t pdeath_count;

static void pdeath_handler(int sig)
{
	pdeath_count++;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = pdeath_handler, .sa_flags = SA_RESTART };
	int sig = -1;
	sigset_t set;

	test_init(argc, argv);

	/*
	 * The launcher parent exits once test_daemon() releases it, and that sends
	 * PDEATH_SIG to us: catch it so it cannot kill the test.
	 */
	sigemptyset(&sa.sa_mask);
	if (sigaction(PDEATH_SIG, &sa, NULL)) {
		pr_perror("sigaction");
		return 1;
	}
	if (prctl(PR_SET_PDEATHSIG, PDEATH_SIG, 0, 0, 0)) {
		pr_perror("PR_SET_PDEATHSIG");
		return 1;
	}
	if (prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) || sig != PDEATH_SIG) {
		pr_err("PR_GET_PDEATHSIG gives %d right after setting it\n", sig);
		return 1;
	}

	/* blocked until after C/R: the launcher's exit leaves it pending, and nothing runs while the state is
	 * compared */
	sigemptyset(&set);
	sigaddset(&set, PDEATH_SIG);
	if (sigprocmask(SIG_BLOCK, &set, NULL)) {
		pr_perror("sigprocmask");
		return 1;
	}

	test_daemon();
	test_waitsig();
	sigprocmask(SIG_UNBLOCK, &set, NULL);

	sig = -1;
	if (prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0)) {
		fail("PR_GET_PDEATHSIG");
		return 1;
	}
	if (sig != PDEATH_SIG) {
		fail("parent-death signal is %d, expected %d", sig, PDEATH_SIG);
		return 1;
	}
	test_msg("parent-death signal received %d time(s)\n", (int)pdeath_count);

	pass();
	return 0;
}
