#include <sys/mman.h>

#include "zdtmtst.h"
#include "vmflags.h"

const char *test_doc = "One anonymous region per madvise advice that sets a VmFlag (dc dd wf hg nh mg sr rr), with "
		       "gaps: after C/R each region's whole VmFlags line is as before";
const char *test_author = "Stasis developers";

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif

#define REGION_PAGES 4
#define SLOT_PAGES (REGION_PAGES + 2)

struct adv {
	int advice;
	const char *name;
	const char *flag;
	int optional; /* the kernel may lack it (THP, KSM) */
	uint8_t *addr;
	int used;
	char flags[512];
};

static struct adv advs[] = {
	{ MADV_DONTFORK, "MADV_DONTFORK", "dc", 0 },	 { MADV_DONTDUMP, "MADV_DONTDUMP", "dd", 0 },
	{ MADV_WIPEONFORK, "MADV_WIPEONFORK", "wf", 0 }, { MADV_HUGEPAGE, "MADV_HUGEPAGE", "hg", 1 },
	{ MADV_NOHUGEPAGE, "MADV_NOHUGEPAGE", "nh", 1 }, { MADV_MERGEABLE, "MADV_MERGEABLE", "mg", 1 },
	{ MADV_SEQUENTIAL, "MADV_SEQUENTIAL", "sr", 0 }, { MADV_RANDOM, "MADV_RANDOM", "rr", 0 },
};

int main(int argc, char **argv)
{
	size_t total = ARRAY_SIZE(advs) * SLOT_PAGES * PAGE_SIZE;
	unsigned long vs, ve;
	char now[512];
	uint8_t *base;
	unsigned i;

	test_init(argc, argv);

	base = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED || munmap(base, total)) {
		pr_perror("mmap");
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(advs); i++) {
		struct adv *a = &advs[i];

		a->addr = mmap(base + i * SLOT_PAGES * PAGE_SIZE, REGION_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (a->addr == MAP_FAILED) {
			pr_perror("mmap");
			return 1;
		}
		memset(a->addr, 0x20 + i, REGION_PAGES * PAGE_SIZE);
		if (madvise(a->addr, REGION_PAGES * PAGE_SIZE, a->advice)) {
			if (a->optional && errno == EINVAL) {
				skip("%s is not supported: not checked", a->name);
				munmap(a->addr, REGION_PAGES * PAGE_SIZE);
				continue;
			}
			pr_perror("madvise(%s)", a->name);
			return 1;
		}
		if (vma_flags((unsigned long)a->addr, a->flags, sizeof(a->flags), &vs, &ve) ||
		    !has_vmflag(a->flags, a->flag)) {
			pr_err("%s: VmFlags '%s' lack %s\n", a->name, a->flags, a->flag);
			return 1;
		}
		a->used = 1;
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < ARRAY_SIZE(advs); i++) {
		struct adv *a = &advs[i];

		if (!a->used)
			continue;
		if (vma_flags((unsigned long)a->addr, now, sizeof(now), &vs, &ve)) {
			fail("the %s region is gone", a->name);
			return 1;
		}
		if (strcmp(now, a->flags)) {
			fail("%s region: VmFlags were '%s', now '%s'", a->name, a->flags, now);
			return 1;
		}
		if (vs != (unsigned long)a->addr || ve != (unsigned long)a->addr + REGION_PAGES * PAGE_SIZE) {
			fail("%s region: VMA %#lx-%#lx, expected %p-%p", a->name, vs, ve, a->addr,
			     a->addr + REGION_PAGES * PAGE_SIZE);
			return 1;
		}
		if (a->addr[0] != 0x20 + i || a->addr[REGION_PAGES * PAGE_SIZE - 1] != 0x20 + i) {
			fail("%s region: data changed", a->name);
			return 1;
		}
	}
	pass();
	return 0;
}
