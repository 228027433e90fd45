#include <setjmp.h>
#include <signal.h>
#include <sys/prctl.h>

#include "zdtmtst.h"

const char *test_doc = "Check that PR_SET_TSC PR_TSC_SIGSEGV survives C/R: PR_GET_TSC returns it and rdtsc raises "
		       "SIGSEGV";
const char *test_author = "Stasis developers";

static sigjmp_buf jb;
static volatile sig_atomic_t segvs;

static void on_segv(int sig)
{
	segvs++;
	siglongjmp(jb, 1);
}

/* 1 if rdtsc faulted, 0 if it ran. Nothing here may read the clock (the vDSO uses rdtsc). */
static int rdtsc_faults(void)
{
	unsigned int lo, hi;

	segvs = 0;
	if (sigsetjmp(jb, 1) == 0) {
		asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
		return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_segv };
	int mode = -1, faulted;

	test_init(argc, argv);

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL)) {
		pr_perror("sigaction");
		return 1;
	}
	if (rdtsc_faults()) {
		pr_err("rdtsc faults before PR_SET_TSC\n");
		return 1;
	}
	if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0)) {
		if (errno == EINVAL) {
			skip("PR_SET_TSC is not supported");
			test_daemon();
			test_waitsig();
			pass();
			return 0;
		}
		pr_perror("PR_SET_TSC");
		return 1;
	}
	faulted = rdtsc_faults();
	if (prctl(PR_GET_TSC, &mode, 0, 0, 0) || mode != PR_TSC_SIGSEGV || !faulted) {
		prctl(PR_SET_TSC, PR_TSC_ENABLE, 0, 0, 0);
		pr_err("right after PR_SET_TSC: PR_GET_TSC %d, rdtsc faulted %d\n", mode, faulted);
		return 1;
	}

	/* No test_msg() until the TSC is enabled again: it reads the time */
	test_daemon();
	test_waitsig();

	mode = -1;
	if (prctl(PR_GET_TSC, &mode, 0, 0, 0))
		mode = -2;
	faulted = rdtsc_faults();
	prctl(PR_SET_TSC, PR_TSC_ENABLE, 0, 0, 0);

	if (mode != PR_TSC_SIGSEGV) {
		fail("PR_GET_TSC gives %d, expected PR_TSC_SIGSEGV (%d)", mode, PR_TSC_SIGSEGV);
		return 1;
	}
	if (!faulted) {
		fail("rdtsc ran without SIGSEGV after C/R");
		return 1;
	}
	pass();
	return 0;
}
