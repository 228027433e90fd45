#include <sys/mman.h>

#include "zdtmtst.h"

const char *test_doc = "Pages that were only read (backed by the zero page) still read zero, written pages keep their values";
const char *test_author = "Stasis developers";

#define NR_PAGES 64

static uint64_t val(unsigned pg, unsigned i)
{
	return ((uint64_t)pg << 32) ^ (i * 0x5bd1e995ULL) ^ 0x0123456789abcdefULL;
}

/* Pages pg%4==0 are written, pg%4==1 and 2 are only read, pg%4==3 are never touched. */
int main(int argc, char **argv)
{
	volatile uint64_t *map;
	uint64_t sum = 0;
	unsigned pg, i;
	const unsigned per = PAGE_SIZE / 8;

	test_init(argc, argv);

	map = mmap(NULL, NR_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	for (pg = 0; pg < NR_PAGES; pg++) {
		if (pg % 4 == 0)
			for (i = 0; i < per; i += 7)
				map[pg * per + i] = val(pg, i);
		else if (pg % 4 != 3)
			for (i = 0; i < per; i++)
				sum |= map[pg * per + i];
	}
	if (sum) {
		pr_err("fresh anonymous memory is not zero\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	for (pg = 0; pg < NR_PAGES; pg++)
		for (i = 0; i < per; i++) {
			uint64_t want = (pg % 4 == 0 && i % 7 == 0) ? val(pg, i) : 0;

			if (map[pg * per + i] != want) {
				fail("page %u word %u: %#llx, expected %#llx", pg, i,
				     (unsigned long long)map[pg * per + i], (unsigned long long)want);
				return 1;
			}
		}
	/* Writing one formerly zero page must not affect any other page. */
	map[1 * per + 3] = 0x1111;
	map[3 * per + 5] = 0x3333;
	for (pg = 0; pg < NR_PAGES; pg++)
		for (i = 0; i < per; i++) {
			uint64_t want = (pg % 4 == 0 && i % 7 == 0) ? val(pg, i) : 0;

			if (pg == 1 && i == 3)
				want = 0x1111;
			if (pg == 3 && i == 5)
				want = 0x3333;
			if (map[pg * per + i] != want) {
				fail("after writing pages 1 and 3, page %u word %u is %#llx", pg, i,
				     (unsigned long long)map[pg * per + i]);
				return 1;
			}
		}

	pass();
	return 0;
}
