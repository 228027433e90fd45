#include <fcntl.h>
#include <signal.h>

#include "zdtmtst.h"

const char *test_doc = "File owners and signals of fds (F_SETOWN_EX to the process and to a process group, "
		       "F_SETSIG, O_ASYNC) on pipes: after C/R F_GETOWN_EX, F_GETSIG and O_ASYNC are the same, "
		       "and data written to the pipe sends the chosen signal with the fd in si_fd";
const char *test_author = "Stasis developers";

static volatile int got_sig, got_fd;

static void handler(int sig, siginfo_t *si, void *uc)
{
	got_sig = sig;
	got_fd = si->si_fd;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = handler, .sa_flags = SA_SIGINFO };
	struct f_owner_ex own = { .type = F_OWNER_PID }, grp = { .type = F_OWNER_PGRP }, got;
	int p1[2], p2[2], i;

	test_init(argc, argv);

	own.pid = getpid();
	grp.pid = getpgrp();
	sigemptyset(&sa.sa_mask);
	if (pipe(p1) || pipe(p2) || sigaction(SIGRTMIN + 4, &sa, NULL) || fcntl(p1[0], F_SETOWN_EX, &own) ||
	    fcntl(p1[0], F_SETSIG, SIGRTMIN + 4) || fcntl(p1[0], F_SETFL, O_ASYNC | O_NONBLOCK) ||
	    fcntl(p2[0], F_SETOWN_EX, &grp) || fcntl(p2[0], F_SETSIG, SIGIO + 0) == -1) {
		pr_perror("setup");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (fcntl(p1[0], F_GETOWN_EX, &got) || got.type != F_OWNER_PID || got.pid != getpid()) {
		fail("p1 owner type %d pid %d after C/R", got.type, got.pid);
		return 1;
	}
	if (fcntl(p2[0], F_GETOWN_EX, &got) || got.type != F_OWNER_PGRP || got.pid != getpgrp()) {
		fail("p2 owner type %d pid %d after C/R, expected the group %d", got.type, got.pid, getpgrp());
		return 1;
	}
	if (fcntl(p1[0], F_GETSIG) != SIGRTMIN + 4 || fcntl(p2[0], F_GETSIG) != SIGIO) {
		fail("F_GETSIG %d %d after C/R", fcntl(p1[0], F_GETSIG), fcntl(p2[0], F_GETSIG));
		return 1;
	}
	if (!(fcntl(p1[0], F_GETFL) & O_ASYNC) || (fcntl(p2[0], F_GETFL) & O_ASYNC)) {
		fail("O_ASYNC changed");
		return 1;
	}
	if (write(p1[1], "s", 1) != 1) {
		fail("write");
		return 1;
	}
	for (i = 0; i < 1000 && !got_sig; i++)
		usleep(1000);
	if (got_sig != SIGRTMIN + 4 || got_fd != p1[0]) {
		fail("signal %d for fd %d after a write, expected %d for %d", got_sig, got_fd, SIGRTMIN + 4, p1[0]);
		return 1;
	}
	pass();
	return 0;
}
