#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "zdtmtst.h"

const char *test_doc = "Syscall user dispatch with the selector at BLOCK while the dump runs (the test spins without "
		       "syscalls): the engine's injected syscalls would be sent to SIGSYS, so the dump must refuse "
		       "and leave the test running";
const char *test_author = "Stasis developers";

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#endif
#ifndef PR_SYS_DISPATCH_ON
#define PR_SYS_DISPATCH_ON 1
#endif
#ifndef SYSCALL_DISPATCH_FILTER_ALLOW
#define SYSCALL_DISPATCH_FILTER_ALLOW 0
#define SYSCALL_DISPATCH_FILTER_BLOCK 1
#endif

static volatile char selector = SYSCALL_DISPATCH_FILTER_ALLOW;
static volatile sig_atomic_t stop, sigsys;

/* Syscalls are allowed again first: the return from this handler is a syscall (rt_sigreturn) */
static void on_term(int sig)
{
	selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	stop = 1;
}

static void on_sigsys(int sig)
{
	selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	sigsys++;
}

int main(int argc, char **argv)
{
	struct sigaction term = { .sa_handler = on_term }, sys = { .sa_handler = on_sigsys };

	test_init(argc, argv);

	sigemptyset(&term.sa_mask);
	sigemptyset(&sys.sa_mask);
	if (sigaction(SIGSYS, &sys, NULL)) {
		pr_perror("sigaction");
		return 1;
	}
	if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0, 0, &selector)) {
		if (errno == EINVAL) {
			skip("syscall user dispatch is not supported");
			test_daemon();
			test_waitsig();
			pass();
			return 0;
		}
		pr_perror("PR_SET_SYSCALL_USER_DISPATCH");
		return 1;
	}

	test_daemon();
	if (sigaction(SIGTERM, &term, NULL)) {
		pr_perror("sigaction(SIGTERM)");
		return 1;
	}
	selector = SYSCALL_DISPATCH_FILTER_BLOCK;
	while (!stop)
		;
	selector = SYSCALL_DISPATCH_FILTER_ALLOW;

	if (sigsys) {
		fail("%d syscall(s) were dispatched to SIGSYS while the selector blocked them", (int)sigsys);
		return 1;
	}
	pass();
	return 0;
}
