#include <signal.h>
#include <sys/prctl.h>

#include "zdtmtst.h"

const char *test_doc = "The root of the tree sets PR_SET_PDEATHSIG(SIGUSR1) once its launcher is gone: after C/R it "
		       "is still SIGUSR1 and the signal was not sent during C/R";
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
	int sig = -1, i;

	test_init(argc, argv);

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL)) {
		pr_perror("sigaction");
		return 1;
	}
	ppid = getppid();

	test_daemon();

	/* In flavor h the launcher exits now: set the signal once we are reparented (ns: the init stays) */
	for (i = 0; i < 100 && getppid() == ppid; i++)
		usleep(10000);
	if (prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0)) {
		pr_perror("PR_SET_PDEATHSIG");
		return 1;
	}
	if (prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) || sig != SIGUSR1) {
		pr_err("PR_GET_PDEATHSIG gives %d right after setting it\n", sig);
		return 1;
	}
	test_msg("parent %d, pdeathsig set\n", getppid());

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
	if (pdeaths) {
		fail("the parent-death signal was received %d time(s) (parent now %d)", (int)pdeaths, getppid());
		return 1;
	}
	pass();
	return 0;
}
