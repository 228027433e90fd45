#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "zdtmtst.h"

const char *test_doc = "Check that the alternate signal stack survives C/R and SA_ONSTACK handlers run on it";
const char *test_author = "Stasis developers";

#define ALT_SIZE (64 * 1024)

static char altstack[ALT_SIZE] __attribute__((aligned(64)));
static volatile uintptr_t handler_sp;
static volatile int handler_onstack;
static volatile sig_atomic_t hits;

static void onstack_handler(int sig)
{
	volatile char here;
	stack_t cur;

	handler_sp = (uintptr_t)&here;
	if (sigaltstack(NULL, &cur) == 0)
		handler_onstack = !!(cur.ss_flags & SS_ONSTACK);
	hits++;
}

static int on_altstack(uintptr_t p)
{
	return p >= (uintptr_t)altstack && p < (uintptr_t)altstack + ALT_SIZE;
}

/* Deliver SIGUSR1 and report whether the handler ran on the alternate stack */
static int deliver(int expected_hits)
{
	handler_sp = 0;
	handler_onstack = 0;
	if (raise(SIGUSR1))
		return -1;
	if (hits != expected_hits)
		return -1;
	return on_altstack(handler_sp) && handler_onstack;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = onstack_handler, .sa_flags = SA_ONSTACK };
	stack_t ss, before, after;

	test_init(argc, argv);

	ss.ss_sp = altstack;
	ss.ss_size = ALT_SIZE;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL) || sigaltstack(NULL, &before)) {
		pr_perror("sigaltstack");
		return 1;
	}
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL)) {
		pr_perror("sigaction");
		return 1;
	}
	if (deliver(1) != 1) {
		pr_err("the handler did not run on the alternate stack before C/R (sp %#lx)\n", (unsigned long)handler_sp);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (sigaltstack(NULL, &after)) {
		fail("sigaltstack");
		return 1;
	}
	if (after.ss_sp != before.ss_sp || after.ss_size != before.ss_size || after.ss_flags != before.ss_flags) {
		fail("sigaltstack was sp %p size %zu flags %#x, now sp %p size %zu flags %#x", before.ss_sp,
		     before.ss_size, before.ss_flags, after.ss_sp, after.ss_size, after.ss_flags);
		return 1;
	}
	if (deliver(2) != 1) {
		fail("the SA_ONSTACK handler ran at sp %#lx (onstack %d), outside %p..%p", (unsigned long)handler_sp,
		     handler_onstack, (void *)altstack, (void *)(altstack + ALT_SIZE));
		return 1;
	}

	pass();
	return 0;
}
