#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "zdtmtst.h"
#include "vmflags.h"

const char *test_doc = "Check that a child's exit signal (SIGUSR1 given to clone) survives C/R: /proc/PID/stat field "
		       "38 stays 10, its death sends SIGUSR1 and not SIGCHLD, and only __WCLONE reaps it";
const char *test_author = "Stasis developers";

static volatile sig_atomic_t usr1s, chlds;
static volatile pid_t usr1_pid;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	usr1s++;
	usr1_pid = si->si_pid;
}

static void on_chld(int sig)
{
	chlds++;
}

static int exit_signal(pid_t pid)
{
	char path[64], v[32];

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (stat_field(path, 38, v, sizeof(v)))
		return -1;
	return atoi(v);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO | SA_RESTART };
	struct sigaction sc = { .sa_handler = on_chld, .sa_flags = SA_RESTART };
	int status, es, i;
	pid_t pid, w;

	test_init(argc, argv);

	sigemptyset(&sa.sa_mask);
	sigemptyset(&sc.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) || sigaction(SIGCHLD, &sc, NULL)) {
		pr_perror("sigaction");
		return 1;
	}
	pid = syscall(SYS_clone, SIGUSR1, NULL, NULL, NULL, 0);
	if (pid < 0) {
		pr_perror("clone");
		return 1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		while (1)
			pause();
	}
	es = exit_signal(pid);
	if (es != SIGUSR1) {
		pr_err("child %d has exit signal %d, expected %d\n", pid, es, SIGUSR1);
		goto kill;
	}

	test_daemon();
	test_waitsig();

	es = exit_signal(pid);
	if (es != SIGUSR1) {
		fail("child %d has exit signal %d (stat field 38), expected %d", pid, es, SIGUSR1);
		goto kill;
	}
	usr1s = chlds = 0;
	if (kill(pid, SIGKILL)) {
		fail("kill");
		goto kill;
	}
	/* Wait for the signal (the zombie appears with it) */
	for (i = 0; i < 500 && !usr1s && !chlds; i++) {
		struct timespec ts = { 0, 10000000 };

		nanosleep(&ts, NULL);
	}
	if (usr1s != 1 || chlds != 0 || usr1_pid != pid) {
		fail("the child's death sent SIGUSR1 %d time(s) (from pid %d) and SIGCHLD %d time(s), expected one "
		     "SIGUSR1 from %d",
		     (int)usr1s, (int)usr1_pid, (int)chlds, pid);
		goto reap;
	}
	errno = 0;
	w = waitpid(pid, &status, WNOHANG);
	if (w != -1 || errno != ECHILD) {
		fail("waitpid without __WCLONE returned %d: the child is not a clone child", w);
		if (w == pid)
			return 1;
		goto reap;
	}
	w = waitpid(pid, &status, __WCLONE);
	if (w != pid || !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
		fail("waitpid(__WCLONE) returned %d status %#x", w, status);
		return 1;
	}
	pass();
	return 0;

kill:
	kill(pid, SIGKILL);
reap:
	waitpid(pid, NULL, __WALL);
	return 1;
}
