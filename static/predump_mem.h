/*
 * Memory that keeps changing through pre-dumps (--pre N, --snaps): regions of pages, each page saying
 * which region, page and generation it holds (the rest of it a pattern of the three), and a ledger of
 * the generation each page must have. A writer writes the page first and the ledger after, so a
 * freeze leaves at most one page per writer one generation ahead of its ledger entry; any other
 * difference after C/R is a page restored from an older image of the chain.
 */
#ifndef ZDTM_PREDUMP_MEM_H
#define ZDTM_PREDUMP_MEM_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "zdtmtst.h"

#define PM_MAGIC 0x50524544u

struct pm_region {
	uint8_t *base;
	int id, pages;
	uint32_t *ledger; /* one generation per page */
};

static inline uint64_t pm_word(int id, int page, uint32_t gen, int j)
{
	return ((uint64_t)id << 48) ^ ((uint64_t)page << 24) ^ ((uint64_t)gen * 0x9e3779b97f4a7c15ULL) ^ j;
}

static inline void pm_fill(struct pm_region *r, int page, uint32_t gen)
{
	uint64_t *w = (uint64_t *)(r->base + (size_t)page * PAGE_SIZE);
	uint32_t *h = (uint32_t *)w;
	int j;

	for (j = 2; j < PAGE_SIZE / 8; j++)
		w[j] = pm_word(r->id, page, gen, j);
	h[0] = PM_MAGIC;
	h[1] = r->id;
	h[2] = page;
	__atomic_store_n(&h[3], gen, __ATOMIC_RELEASE);
	__atomic_store_n(&r->ledger[page], gen, __ATOMIC_RELEASE);
}

/* 0 if the page is right; *ahead counts pages one generation ahead of their ledger entry */
static inline int pm_check_page(struct pm_region *r, int page, int *ahead, char *why, size_t len)
{
	uint64_t *w = (uint64_t *)(r->base + (size_t)page * PAGE_SIZE);
	uint32_t *h = (uint32_t *)w;
	uint32_t gen = h[3], want = r->ledger[page];
	int j;

	if (h[0] != PM_MAGIC || h[1] != (uint32_t)r->id || h[2] != (uint32_t)page) {
		snprintf(why, len, "region %d page %d: header %08x %u %u (not this page's)", r->id, page, h[0], h[1],
			 h[2]);
		return 1;
	}
	if (gen != want) {
		if (gen != want + 1) {
			snprintf(why, len, "region %d page %d: generation %u, the ledger says %u", r->id, page, gen, want);
			return 1;
		}
		(*ahead)++;
	}
	for (j = 2; j < PAGE_SIZE / 8; j++)
		if (w[j] != pm_word(r->id, page, gen, j)) {
			snprintf(why, len, "region %d page %d generation %u: word %d differs", r->id, page, gen, j);
			return 1;
		}
	return 0;
}

static inline int pm_check(struct pm_region *r, int *ahead, char *why, size_t len)
{
	int i;

	for (i = 0; i < r->pages; i++)
		if (pm_check_page(r, i, ahead, why, len))
			return 1;
	return 0;
}

/* xorshift: which page a writer writes next */
static inline uint32_t pm_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* The engine's dirty tracking is armed on this process (VmFlags uw: its userfaultfd write-protection;
 * on kernels tracking otherwise this never shows, and the programs then only keep writing) */
static inline int pm_tracked(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/smaps", "r");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmFlags:", 8) && strstr(line, " uw"))
			found = 1;
	fclose(f);
	return found;
}

#endif
