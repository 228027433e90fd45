#include <sys/mman.h>
#include <sys/prctl.h>

#include "zdtmtst.h"
#include "vmflags.h"

const char *test_doc = "A process with PR_SET_MEMORY_MERGE (KSM for the whole mm): the engine must refuse it or keep "
		       "it; the test checks that PR_GET_MEMORY_MERGE is still 1 and a new anonymous mapping is "
		       "mergeable (VmFlags mg)";
const char *test_author = "Stasis developers";

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#define PR_GET_MEMORY_MERGE 68
#endif

/* 1 if a fresh anonymous mapping gets VM_MERGEABLE, as it must in a merge-any mm */
static int new_map_mergeable(char *flags, size_t len)
{
	void *p;
	int ret;

	p = mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	ret = vma_flags((unsigned long)p, flags, len, NULL, NULL) ? -1 : has_vmflag(flags, "mg");
	munmap(p, 2 * PAGE_SIZE);
	return ret;
}

int main(int argc, char **argv)
{
	char flags[512];

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
	if (new_map_mergeable(flags, sizeof(flags)) != 1) {
		pr_err("a new mapping has VmFlags '%s' (no mg) right after PR_SET_MEMORY_MERGE\n", flags);
		return 1;
	}

	test_daemon();
	test_waitsig();

	after = prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0);
	if (after != 1) {
		fail("PR_GET_MEMORY_MERGE gives %d, expected 1", after);
		return 1;
	}
	if (new_map_mergeable(flags, sizeof(flags)) != 1) {
		fail("a new mapping has VmFlags '%s', no mg: the mm is not merge-any", flags);
		return 1;
	}
	pass();
	return 0;
}
