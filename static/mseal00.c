#include <sys/mman.h>
#include <sys/syscall.h>

#include "zdtmtst.h"
#include "vmflags.h"

const char *test_doc = "Check that an mseal()ed anonymous region stays sealed across C/R: VmFlags sl, mprotect and "
		       "munmap fail with EPERM, data intact";
const char *test_author = "Stasis developers";

#ifndef __NR_mseal
#define __NR_mseal 462
#endif

#define NPAGES 4

static int check(uint8_t *area, uint32_t crc0, const char *when)
{
	char flags[512];
	unsigned long vs, ve;
	uint32_t crc = crc0;

	if (vma_flags((unsigned long)area, flags, sizeof(flags), &vs, &ve)) {
		fail("%s: the sealed region is not mapped", when);
		return 1;
	}
	if (!has_vmflag(flags, "sl")) {
		fail("%s: VmFlags of the region %#lx-%#lx are '%s', no sl", when, vs, ve, flags);
		return 1;
	}
	errno = 0;
	if (mprotect(area, NPAGES * PAGE_SIZE, PROT_READ) != -1 || errno != EPERM) {
		fail("%s: mprotect of the sealed region did not fail with EPERM", when);
		return 1;
	}
	errno = 0;
	if (munmap(area + PAGE_SIZE, PAGE_SIZE) != -1 || errno != EPERM) {
		fail("%s: munmap of a sealed page did not fail with EPERM", when);
		return 1;
	}
	errno = 0;
	if (mremap(area, NPAGES * PAGE_SIZE, 2 * NPAGES * PAGE_SIZE, MREMAP_MAYMOVE) != MAP_FAILED || errno != EPERM) {
		fail("%s: mremap of the sealed region did not fail with EPERM", when);
		return 1;
	}
	if (datachk(area, NPAGES * PAGE_SIZE, &crc)) {
		fail("%s: data of the sealed region changed", when);
		return 1;
	}
	area[5] ^= 1; /* still writable */
	area[5] ^= 1;
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t *area;
	uint32_t crc = ~0;

	test_init(argc, argv);

	area = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	datagen(area, NPAGES * PAGE_SIZE, &crc);
	if (syscall(__NR_mseal, area, NPAGES * PAGE_SIZE, 0)) {
		if (errno == ENOSYS || errno == EINVAL || errno == EPERM) {
			skip("mseal is not available (errno %d)", errno);
			test_daemon();
			test_waitsig();
			pass();
			return 0;
		}
		pr_perror("mseal");
		return 1;
	}
	crc = ~0;
	if (check(area, crc, "before C/R"))
		return 1;

	test_daemon();
	test_waitsig();

	if (check(area, ~0, "after C/R"))
		return 1;
	pass();
	return 0;
}
