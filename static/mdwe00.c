#include <sys/mman.h>
#include <sys/prctl.h>

#include "zdtmtst.h"

const char *test_doc = "Check that memory-deny-write-execute (PR_MDWE_REFUSE_EXEC_GAIN) survives C/R: PR_GET_MDWE is "
		       "the same and an anonymous RW mapping cannot gain PROT_EXEC";
const char *test_author = "Stasis developers";

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_GET_MDWE 66
#define PR_MDWE_REFUSE_EXEC_GAIN (1UL << 0)
#endif

static int exec_gain_refused(const char *when)
{
	void *p;
	int ret = 1;

	p = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fail("%s: mmap", when);
		return 1;
	}
	errno = 0;
	if (mprotect(p, PAGE_SIZE, PROT_READ | PROT_EXEC) != -1 || errno != EACCES)
		fail("%s: mprotect(PROT_EXEC) of an anonymous RW mapping did not fail with EACCES", when);
	else
		ret = 0;
	munmap(p, PAGE_SIZE);
	return ret;
}

int main(int argc, char **argv)
{
	int before, after;

	test_init(argc, argv);

	if (prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0)) {
		if (errno == EINVAL) {
			skip("PR_SET_MDWE is not supported");
			test_daemon();
			test_waitsig();
			pass();
			return 0;
		}
		pr_perror("PR_SET_MDWE");
		return 1;
	}
	before = prctl(PR_GET_MDWE, 0, 0, 0, 0);
	if (before != PR_MDWE_REFUSE_EXEC_GAIN) {
		pr_err("PR_GET_MDWE gives %d right after setting\n", before);
		return 1;
	}
	if (exec_gain_refused("before C/R"))
		return 1;

	test_daemon();
	test_waitsig();

	after = prctl(PR_GET_MDWE, 0, 0, 0, 0);
	if (after != before) {
		fail("PR_GET_MDWE gives %d, expected %d", after, before);
		return 1;
	}
	if (exec_gain_refused("after C/R"))
		return 1;
	pass();
	return 0;
}
