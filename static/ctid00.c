#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that the clear_child_tid address (set_tid_address) survives C/R";
const char *test_author = "Stasis developers";

#ifndef PR_GET_TID_ADDRESS
#define PR_GET_TID_ADDRESS 40
#endif

/* Somewhere glibc would never point clear_child_tid at */
static volatile int ctid_var[4] __attribute__((aligned(64)));

static int *get_tid_address(void)
{
	int *addr = NULL;

	if (prctl(PR_GET_TID_ADDRESS, (unsigned long)&addr, 0, 0, 0))
		return (int *)-1;
	return addr;
}

int main(int argc, char **argv)
{
	int *addr, *want = (int *)&ctid_var[1];
	long tid;

	test_init(argc, argv);

	addr = get_tid_address();
	if (addr == (int *)-1) {
		pr_perror("PR_GET_TID_ADDRESS");
		return 1;
	}
	if (addr == want) {
		pr_err("clear_child_tid already points at the test variable\n");
		return 1;
	}
	test_msg("clear_child_tid was %p, setting %p\n", (void *)addr, (void *)want);

	tid = syscall(SYS_set_tid_address, want);
	if (tid != getpid()) {
		pr_perror("set_tid_address returned %ld, expected %d", tid, getpid());
		return 1;
	}
	if (get_tid_address() != want) {
		pr_err("PR_GET_TID_ADDRESS does not return the address just set\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	addr = get_tid_address();
	if (addr != want) {
		fail("clear_child_tid is %p, expected %p", (void *)addr, (void *)want);
		return 1;
	}

	pass();
	return 0;
}
