#include <sys/mman.h>

#include "zdtmtst.h"
#include "predump_mem.h"

const char *test_doc = "Many private VMAs written all the time; once the engine's dirty tracking shows (after a "
		       "pre-dump) one VMA is moved away and back by mremap(), one is mapped again (MAP_FIXED) and "
		       "filled, and a new one is made: after C/R every page of every VMA holds the generation its "
		       "ledger says, none an older one from a parent image";
const char *test_author = "Stasis developers";

#define NR 24
#define GAP PAGE_SIZE

static struct pm_region regs[NR + 1]; /* the last: made after the pre-dump */
static int nr = NR;

static int pages_of(int i)
{
	return 1 + (i * 5) % 32;
}

int main(int argc, char **argv)
{
	uint32_t seed = 0xdeadbeef;
	uint8_t *area, *p;
	size_t total = 0;
	int i, j, moved = 0, ret = 0, ahead = 0;
	char why[256];
	long n = 0;

	test_init(argc, argv);
	for (i = 0; i < NR; i++)
		total += pages_of(i) * PAGE_SIZE + GAP;
	/* a reservation with PROT_NONE gaps between the regions: each one stays a VMA of its own */
	area = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		return pr_perror("mmap");
	for (i = 0, p = area; i < NR; i++) {
		struct pm_region *r = &regs[i];

		r->id = i;
		r->pages = pages_of(i);
		r->base = p;
		r->ledger = calloc(r->pages, sizeof(uint32_t));
		if (!r->ledger || mprotect(p, r->pages * PAGE_SIZE, PROT_READ | PROT_WRITE))
			return pr_perror("mprotect");
		for (j = 0; j < r->pages; j++)
			pm_fill(r, j, 1);
		p += r->pages * PAGE_SIZE + GAP;
	}

	test_daemon();
	while (test_go()) {
		struct pm_region *r = &regs[pm_rand(&seed) % nr];
		int page = pm_rand(&seed) % r->pages;

		if (moved && (r->id == 3 || r->id == 7))
			continue; /* written once after the change, then left: a stale parent page would show */

		pm_fill(r, page, r->ledger[page] + 1);
		if (++n % 8)
			continue;
		usleep(500);
		if (!moved && n % 256 == 0 && pm_tracked()) {
			struct pm_region *m = &regs[7], *x = &regs[NR];
			void *to;

			/* moved away and back: a VMA at the same address, but not the one the tracking registered */
			to = mmap(NULL, m->pages * PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (to != MAP_FAILED)
				to = mremap(m->base, m->pages * PAGE_SIZE, m->pages * PAGE_SIZE,
					    MREMAP_MAYMOVE | MREMAP_FIXED, to);
			if (to != MAP_FAILED)
				to = mremap(to, m->pages * PAGE_SIZE, m->pages * PAGE_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED,
					    m->base);
			/* mapped again over region 3: new, empty pages at addresses the parent images have */
			if (to != MAP_FAILED)
				to = mmap(regs[3].base, regs[3].pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			if (to == MAP_FAILED) {
				pr_perror("mremap/mmap");
				ret = 1;
				break;
			}
			for (j = 0; j < regs[3].pages; j++)
				pm_fill(&regs[3], j, regs[3].ledger[j] + 1);
			for (j = 0; j < m->pages; j++)
				pm_fill(m, j, m->ledger[j] + 1);
			/* new: mapped after the pre-dump, written whole */
			x->id = NR;
			x->pages = 16;
			x->ledger = calloc(x->pages, sizeof(uint32_t));
			x->base = mmap(NULL, x->pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				       -1, 0);
			if (x->base == MAP_FAILED || !x->ledger) {
				pr_perror("mmap");
				ret = 1;
				break;
			}
			for (j = 0; j < x->pages; j++)
				pm_fill(x, j, 1);
			nr = NR + 1;
			moved = 1;
			test_msg("tracking seen: region 7 moved away and back, region 3 mapped again, region %d new at %p\n",
				 NR, x->base);
		}
	}
	test_waitsig();
	if (ret)
		return 1;
	for (i = 0; i < nr; i++) {
		why[0] = 0;
		if (pm_check(&regs[i], &ahead, why, sizeof(why)) || ahead > 1) {
			fail("%s", why[0] ? why : "more than one page in flight (one writer)");
			return 1;
		}
	}
	pass();
	return 0;
}
