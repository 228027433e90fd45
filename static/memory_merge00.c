#include <sys/prctl.h>

#include "zdtmtst.h"

const char *test_doc = "A process with PR_SET_MEMORY_MERGE (KSM for the whole mm): the engine must refuse it or keep "
		       "it; the test checks that PR_GET_MEMORY_MERGE is still 1";
const char *test_author = "Stasis developers";

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#define PR_GET_MEMORY_MERGE 68
#endif

int main(int argc, char **argv)
{
	int after;

	test_init(argc, argv);

	if (prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0)) {
		if (errno == EINVAL || errno == EPERM) {
			skip("PR_SET_MEMORY_MERGE is not available (errno %d; it needs CAP_SYS_RESOURCE and KSM)",
			     errno);
			test_daemon();
			test_waitsig();
			pass();
			return 0;
		}
		pr_perror("PR_SET_MEMORY_MERGE");
		return 1;
	}
	if (prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0) != 1) {
		pr_err("PR_GET_MEMORY_MERGE is not 1 right after setting it\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	after = prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0);
	if (after != 1) {
		fail("PR_GET_MEMORY_MERGE gives %d, expected 1", after);
		return 1;
	}
	pass();
	return 0;
}
