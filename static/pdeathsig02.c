#include <signal.h>
#include <sys/prctl.h>

#include "zdtmtst.h"

const char *test_doc = "The root of the tree has PR_SET_PDEATHSIG(SIGUSR1): after C/R it is still SIGUSR1 and the "
		       "signal came only for the launcher's exit, never during C/R";
const char *test_author = "Stasis developers";

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

	test_init(argc, argv);

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL)) {
		pr_perror("sigaction");
		return 1;
	}
	/* set before test_daemon(): the program's state is whole when it says it is ready */
	if (prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0)) {
		pr_perror("PR_SET_PDEATHSIG");
		return 1;
	}
	if (prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) || sig != SIGUSR1) {
		pr_err("PR_GET_PDEATHSIG gives %d right after setting it\n", sig);
		return 1;
	}
	ppid = getppid();

	test_daemon();

	test_waitsig();

	usleep(100000); /* a late signal */
	sig = -1;
	if (prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0)) {
		fail("PR_GET_PDEATHSIG");
		return 1;
	}
	if (sig != SIGUSR1) {
		fail("parent-death signal is %d, expected %d (SIGUSR1)", sig, SIGUSR1);
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
