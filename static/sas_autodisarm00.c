#include <signal.h>
#include <stdint.h>

#include "zdtmtst.h"

const char *test_doc = "Check that an SS_AUTODISARM alternate signal stack survives C/R: the same sp/size/flags, and a "
		       "handler runs on it and sees it disarmed";
const char *test_author = "Stasis developers";

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

#define ALT_SIZE (64 * 1024)

static char altstack[ALT_SIZE] __attribute__((aligned(64)));
static volatile uintptr_t handler_sp;
static volatile int in_flags, in_ret;
static volatile size_t in_size;
static volatile sig_atomic_t hits;

static void handler(int sig)
{
	volatile char here;
	stack_t cur;

	handler_sp = (uintptr_t)&here;
	in_ret = sigaltstack(NULL, &cur);
	in_flags = cur.ss_flags;
	in_size = cur.ss_size;
	hits++;
}

static int check(const stack_t *want, const char *when)
{
	stack_t now;

	if (sigaltstack(NULL, &now)) {
		fail("%s: sigaltstack", when);
		return 1;
	}
	if (now.ss_sp != want->ss_sp || now.ss_size != want->ss_size || now.ss_flags != want->ss_flags) {
		fail("%s: sigaltstack sp %p size %zu flags %#x, expected sp %p size %zu flags %#x", when, now.ss_sp,
		     now.ss_size, now.ss_flags, want->ss_sp, want->ss_size, want->ss_flags);
		return 1;
	}
	hits = 0;
	raise(SIGUSR1);
	if (hits != 1 || handler_sp < (uintptr_t)altstack || handler_sp >= (uintptr_t)altstack + ALT_SIZE) {
		fail("%s: the handler ran %d time(s) at sp %#lx, not on the altstack %p..%p", when, (int)hits,
		     (unsigned long)handler_sp, (void *)altstack, (void *)(altstack + ALT_SIZE));
		return 1;
	}
	if (in_ret || in_flags != SS_DISABLE || in_size != 0) {
		fail("%s: inside the handler sigaltstack gave %d flags %#x size %zu, expected disarmed (SS_DISABLE, 0)",
		     when, in_ret, in_flags, (size_t)in_size);
		return 1;
	}
	/* re-armed once the handler returned */
	if (sigaltstack(NULL, &now) || now.ss_flags != want->ss_flags || now.ss_sp != want->ss_sp) {
		fail("%s: the altstack is not re-armed after the handler (flags %#x)", when, now.ss_flags);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_ONSTACK };
	stack_t ss = { .ss_sp = altstack, .ss_size = ALT_SIZE, .ss_flags = SS_AUTODISARM }, before;

	test_init(argc, argv);

	if (sigaltstack(&ss, NULL)) {
		if (errno == EINVAL) {
			skip("SS_AUTODISARM is not supported");
			test_daemon();
			test_waitsig();
			pass();
			return 0;
		}
		pr_perror("sigaltstack");
		return 1;
	}
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) || sigaltstack(NULL, &before)) {
		pr_perror("sigaction/sigaltstack");
		return 1;
	}
	if (!(before.ss_flags & SS_AUTODISARM)) {
		pr_err("sigaltstack flags %#x lack SS_AUTODISARM right after setting\n", before.ss_flags);
		return 1;
	}
	if (check(&before, "before C/R"))
		return 1;

	test_daemon();
	test_waitsig();

	if (check(&before, "after C/R"))
		return 1;
	pass();
	return 0;
}
