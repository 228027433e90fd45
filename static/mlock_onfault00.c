#include <sys/mman.h>
#include <sys/resource.h>

#include "zdtmtst.h"
#include "vmflags.h"

const char *test_doc = "Check that an mlock2(MLOCK_ONFAULT) region keeps VmFlags lo+lf and that only its touched "
		       "pages are resident after C/R (the others stay unpopulated)";
const char *test_author = "Stasis developers";

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 0x01
#endif

#define NPAGES 64

static const int touched[] = { 3, 17, 40 };

static int is_touched(int i)
{
	unsigned j;

	for (j = 0; j < ARRAY_SIZE(touched); j++)
		if (touched[j] == i)
			return 1;
	return 0;
}

static int check(uint8_t *area, const char *when)
{
	unsigned char vec[NPAGES];
	char flags[512];
	unsigned long vs, ve;
	int i;

	for (i = 0; i < NPAGES; i++) {
		if (vma_flags((unsigned long)area + i * PAGE_SIZE, flags, sizeof(flags), &vs, &ve)) {
			fail("%s: page %d of the region is not mapped", when, i);
			return 1;
		}
		if (!has_vmflag(flags, "lo") || !has_vmflag(flags, "lf")) {
			fail("%s: page %d (VMA %#lx-%#lx) VmFlags '%s' lack lo and lf", when, i, vs, ve, flags);
			return 1;
		}
	}
	if (mincore(area, NPAGES * PAGE_SIZE, vec)) {
		fail("%s: mincore", when);
		return 1;
	}
	for (i = 0; i < NPAGES; i++) {
		if (!!(vec[i] & 1) != is_touched(i)) {
			fail("%s: page %d resident %d, expected %d (only pages 3, 17, 40 were touched)", when, i,
			     vec[i] & 1, is_touched(i));
			return 1;
		}
		if (is_touched(i) && (area[i * PAGE_SIZE] != (uint8_t)(0xa0 + i) ||
				      area[i * PAGE_SIZE + PAGE_SIZE - 1] != (uint8_t)(0x50 + i))) {
			fail("%s: data of touched page %d changed", when, i);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	uint8_t *area;
	unsigned j;

	test_init(argc, argv);

	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur < NPAGES * PAGE_SIZE && rl.rlim_max >= NPAGES * PAGE_SIZE) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_MEMLOCK, &rl);
	}
	if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_cur < NPAGES * PAGE_SIZE) {
		skip("RLIMIT_MEMLOCK is below %d bytes", NPAGES * PAGE_SIZE);
		test_daemon();
		test_waitsig();
		pass();
		return 0;
	}

	area = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	if (mlock2(area, NPAGES * PAGE_SIZE, MLOCK_ONFAULT)) {
		if (errno == EINVAL || errno == ENOSYS) {
			skip("mlock2(MLOCK_ONFAULT) is not supported");
			test_daemon();
			test_waitsig();
			pass();
			return 0;
		}
		pr_perror("mlock2");
		return 1;
	}
	for (j = 0; j < ARRAY_SIZE(touched); j++) {
		area[touched[j] * PAGE_SIZE] = 0xa0 + touched[j];
		area[touched[j] * PAGE_SIZE + PAGE_SIZE - 1] = 0x50 + touched[j];
	}
	if (check(area, "before C/R"))
		return 1;

	test_daemon();
	test_waitsig();

	if (check(area, "after C/R"))
		return 1;
	pass();
	return 0;
}
