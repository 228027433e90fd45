#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "A pipe read end with O_ASYNC, F_SETOWN(the test), F_SETSIG(SIGUSR2): flags, owner and "
		       "signal survive C/R, and a write to the pipe delivers SIGUSR2 with si_fd and POLL_IN";
const char *test_author = "Stasis developers";

struct async_state {
	int fl, own, sig;
	struct f_owner_ex ex;
};

static int get_state(int fd, struct async_state *s)
{
	s->fl = fcntl(fd, F_GETFL);
	s->own = fcntl(fd, F_GETOWN);
	s->sig = fcntl(fd, F_GETSIG);
	if (s->fl < 0 || s->sig < 0 || fcntl(fd, F_GETOWN_EX, &s->ex))
		return pr_perror("F_GETFL/F_GETOWN/F_GETSIG/F_GETOWN_EX");
	return 0;
}

/* One byte into the pipe must raise SIGUSR2 (blocked: taken with sigtimedwait) for the read end */
static int check_signal(int p[2], const char *when)
{
	struct timespec ts = { 5, 0 };
	siginfo_t si;
	sigset_t set;
	char c;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGIO);
	if (write(p[1], "x", 1) != 1)
		return pr_perror("write");
	sig = sigtimedwait(&set, &si, &ts);
	if (sig != SIGUSR2) {
		fail("%s: a write to the O_ASYNC pipe gave signal %d, expected SIGUSR2 (%d)", when, sig, SIGUSR2);
		return 1;
	}
	if (si.si_fd != p[0] || si.si_code != POLL_IN || !(si.si_band & POLLIN)) {
		errno = 0;
		fail("%s: SIGUSR2 with si_fd %d si_code %d si_band %#lx, expected fd %d, POLL_IN, POLLIN", when,
		     si.si_fd, si.si_code, (long)si.si_band, p[0]);
		return 1;
	}
	if (read(p[0], &c, 1) != 1 || c != 'x')
		return pr_perror("read back");
	/* exactly one signal per write */
	ts.tv_sec = 0;
	ts.tv_nsec = 100 * 1000 * 1000;
	sig = sigtimedwait(&set, &si, &ts);
	if (sig > 0) {
		fail("%s: an extra signal %d (si_fd %d) after one write", when, sig, si.si_fd);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct async_state before, after;
	sigset_t set;
	int p[2];

	test_init(argc, argv);

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGIO);
	if (sigprocmask(SIG_BLOCK, &set, NULL)) {
		pr_perror("sigprocmask");
		return 1;
	}
	if (pipe(p)) {
		pr_perror("pipe");
		return 1;
	}
	if (fcntl(p[0], F_SETOWN, getpid()) || fcntl(p[0], F_SETSIG, SIGUSR2) ||
	    fcntl(p[0], F_SETFL, O_ASYNC)) {
		pr_perror("F_SETOWN/F_SETSIG/F_SETFL");
		return 1;
	}
	if (get_state(p[0], &before))
		return 1;
	if (!(before.fl & O_ASYNC) || before.own != getpid() || before.sig != SIGUSR2 ||
	    before.ex.type != F_OWNER_PID || before.ex.pid != getpid()) {
		pr_err("unexpected state right after the setup: fl %#x own %d sig %d ex %d/%d\n", before.fl,
		       before.own, before.sig, before.ex.type, before.ex.pid);
		return 1;
	}
	if (check_signal(p, "before C/R"))
		return 1;

	test_daemon();
	test_waitsig();

	if (get_state(p[0], &after))
		return 1;
	if (after.fl != before.fl) {
		fail("F_GETFL %#x after C/R, was %#x (O_ASYNC %s)", after.fl, before.fl,
		     after.fl & O_ASYNC ? "set" : "lost");
		return 1;
	}
	if (after.own != getpid() || after.ex.type != before.ex.type || after.ex.pid != getpid()) {
		fail("owner after C/R: F_GETOWN %d, F_GETOWN_EX type %d pid %d; expected %d, %d, %d", after.own,
		     after.ex.type, after.ex.pid, getpid(), before.ex.type, getpid());
		return 1;
	}
	if (after.sig != SIGUSR2) {
		fail("F_GETSIG %d after C/R, expected SIGUSR2 (%d)", after.sig, SIGUSR2);
		return 1;
	}
	if (check_signal(p, "after C/R"))
		return 1;
	pass();
	return 0;
}
