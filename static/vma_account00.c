#include <fcntl.h>
#include <sys/mman.h>

#include "zdtmtst.h"
#include "vmflags.h"

const char *test_doc = "Check that VM_ACCOUNT (VmFlags ac) is as before C/R: none on a read-only private file mapping "
		       "and on an anonymous mapping created read-only, set on one created RW then made read-only";
const char *test_author = "Stasis developers";

#define SLOT(base, i) ((base) + (i) * 4 * PAGE_SIZE)

struct region {
	const char *what;
	uint8_t *addr;
	int want_ac;
	char flags[512];
};

int main(int argc, char **argv)
{
	struct region r[3] = { { "read-only private file mapping", NULL, 0 },
			       { "anonymous mapping created RW then made read-only", NULL, 1 },
			       { "anonymous mapping created read-only", NULL, 0 } };
	char now[512];
	uint8_t *base;
	int fd, i;

	test_init(argc, argv);

	/* One reservation, the three regions with unmapped gaps between them so nothing merges */
	base = mmap(NULL, 12 * PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED || munmap(base, 12 * PAGE_SIZE)) {
		pr_perror("mmap");
		return 1;
	}
	fd = open("/proc/self/exe", O_RDONLY);
	if (fd < 0) {
		pr_perror("open /proc/self/exe");
		return 1;
	}
	r[0].addr = mmap(SLOT(base, 0), 2 * PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
	close(fd);
	r[1].addr = mmap(SLOT(base, 1), 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			 -1, 0);
	r[2].addr = mmap(SLOT(base, 2), 2 * PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (r[0].addr == MAP_FAILED || r[1].addr == MAP_FAILED || r[2].addr == MAP_FAILED) {
		pr_perror("mmap of the regions");
		return 1;
	}
	memset(r[1].addr, 0x6b, 2 * PAGE_SIZE);
	if (mprotect(r[1].addr, 2 * PAGE_SIZE, PROT_READ)) {
		pr_perror("mprotect");
		return 1;
	}
	for (i = 0; i < 3; i++) {
		if (vma_flags((unsigned long)r[i].addr, r[i].flags, sizeof(r[i].flags), NULL, NULL) ||
		    has_vmflag(r[i].flags, "ac") != r[i].want_ac) {
			pr_err("%s has VmFlags '%s', ac expected %d\n", r[i].what, r[i].flags, r[i].want_ac);
			return 1;
		}
		test_msg("%s: %s\n", r[i].what, r[i].flags);
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < 3; i++) {
		unsigned long vs = 0, ve = 0;

		if (vma_flags((unsigned long)r[i].addr, now, sizeof(now), &vs, &ve)) {
			fail("the %s is gone", r[i].what);
			return 1;
		}
		if (strcmp(now, r[i].flags)) {
			fail("%s: VmFlags were '%s', now '%s'", r[i].what, r[i].flags, now);
			return 1;
		}
		if (vs != (unsigned long)r[i].addr || ve != (unsigned long)r[i].addr + 2 * PAGE_SIZE) {
			fail("%s: the VMA is %#lx-%#lx, expected %p-%p", r[i].what, vs, ve, r[i].addr,
			     r[i].addr + 2 * PAGE_SIZE);
			return 1;
		}
	}
	if (r[1].addr[0] != 0x6b || r[1].addr[2 * PAGE_SIZE - 1] != 0x6b || r[2].addr[0] != 0) {
		fail("data of the anonymous regions changed");
		return 1;
	}
	pass();
	return 0;
}
