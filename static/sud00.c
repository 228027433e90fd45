#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>

#include "zdtmtst.h"

const char *test_doc = "Check that syscall user dispatch survives C/R: with the selector set to BLOCK a syscall "
		       "raises SIGSYS (the handler sets it back to ALLOW) instead of running";
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
#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH 2
#endif

#define SENTINEL 4242

static volatile char selector = SYSCALL_DISPATCH_FILTER_ALLOW;
static volatile sig_atomic_t hits;
static volatile int last_nr, last_code;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	ucontext_t *ctx = uc;

	selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	hits++;
	last_nr = si->si_syscall;
	last_code = si->si_code;
	ctx->uc_mcontext.gregs[REG_RAX] = SENTINEL;
}

/* 0 if a blocked syscall was dispatched to the handler and did not run */
static int dispatched(const char *when)
{
	long ret;

	hits = 0;
	last_nr = -1;
	last_code = -1;
	selector = SYSCALL_DISPATCH_FILTER_BLOCK;
	ret = syscall(SYS_getppid);
	selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	if (hits != 1 || ret != SENTINEL || last_nr != SYS_getppid || last_code != SYS_USER_DISPATCH) {
		fail("%s: a blocked getppid returned %ld, SIGSYS %d time(s), si_syscall %d si_code %d", when, ret,
		     (int)hits, last_nr, last_code);
		return 1;
	}
	/* And with ALLOW syscalls run */
	if (syscall(SYS_getppid) == SENTINEL || hits != 1) {
		fail("%s: an allowed syscall was dispatched", when);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };

	test_init(argc, argv);

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL)) {
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
	if (dispatched("before C/R"))
		return 1;

	test_daemon();
	test_waitsig();

	if (dispatched("after C/R"))
		return 1;
	pass();
	return 0;
}
