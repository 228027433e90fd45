#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"
#include "vmflags.h"

#ifndef STOP_CONSUMED
#define STOP_CONSUMED 1
const char *test_doc = "A child stopped by SIGSTOP whose stop report the parent consumed (waitpid WUNTRACED) before "
		       "C/R: after it the child is still in state T and no new stop report is pending";
#endif
const char *test_author = "Stasis developers";

static pid_t child;

static void kill_child(void)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
}

/* 1 if a stop report of the child is pending (not consumed), checked with WNOWAIT, 0 if none, -1 on error */
static int report_pending(void)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, child, &si, WSTOPPED | WNOHANG | WNOWAIT))
		return -1;
	if (si.si_pid == 0)
		return 0;
	return si.si_pid == child && si.si_code == CLD_STOPPED && si.si_status == SIGSTOP ? 1 : -1;
}

int main(int argc, char **argv)
{
	int status, i, pend;
	pid_t w;

	test_init(argc, argv);

	child = fork();
	if (child < 0) {
		pr_perror("fork");
		return 1;
	}
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		while (1)
			pause();
	}
	if (kill(child, SIGSTOP)) {
		pr_perror("kill");
		kill_child();
		return 1;
	}
	if (STOP_CONSUMED) {
		w = waitpid(child, &status, WUNTRACED);
		if (w != child || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP) {
			pr_err("waitpid gave %d status %#x, expected a SIGSTOP stop\n", w, status);
			kill_child();
			return 1;
		}
	} else {
		for (i = 0; i < 500 && pid_state(child) != 'T'; i++)
			usleep(10000);
	}
	pend = report_pending();
	if (pid_state(child) != 'T' || pend != !STOP_CONSUMED) {
		pr_err("before C/R: child state %c, stop report pending %d (expected %d)\n", pid_state(child), pend,
		       !STOP_CONSUMED);
		kill_child();
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (pid_state(child) != 'T') {
		fail("the child is in state %c, expected T", pid_state(child));
		kill_child();
		return 1;
	}
	pend = report_pending();
	if (pend != !STOP_CONSUMED) {
		fail("waitid(WSTOPPED|WNOHANG|WNOWAIT): stop report pending %d, expected %d", pend, !STOP_CONSUMED);
		kill_child();
		return 1;
	}
	if (!STOP_CONSUMED) {
		w = waitpid(child, &status, WUNTRACED | WNOHANG);
		if (w != child || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP) {
			fail("waitpid(WUNTRACED|WNOHANG) gave %d status %#x, expected the SIGSTOP report", w, status);
			kill_child();
			return 1;
		}
	}
	w = waitpid(child, &status, WUNTRACED | WNOHANG);
	if (w != 0) {
		fail("waitpid(WUNTRACED|WNOHANG) gave %d status %#x: a stop report %s", w, status,
		     STOP_CONSUMED ? "that was consumed before C/R is back" : "is reported twice");
		kill_child();
		return 1;
	}
	kill(child, SIGCONT);
	kill(child, SIGKILL);
	w = waitpid(child, &status, 0);
	if (w != child || !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
		fail("waitpid after SIGKILL gave %d status %#x", w, status);
		return 1;
	}
	pass();
	return 0;
}
