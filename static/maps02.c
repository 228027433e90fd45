#include <sys/mman.h>

#include "zdtmtst.h"
#include "vma_bits.h"

const char *test_doc = "madvise flags of anonymous mappings (MADV_DONTFORK, MADV_DONTDUMP, MADV_SEQUENTIAL, "
		       "MADV_RANDOM, MADV_WIPEONFORK, MADV_NOHUGEPAGE), each on its own mapping: after C/R smaps "
		       "gives each mapping its flag and no other, and the data is there";
const char *test_author = "Stasis developers";

#define LEN (4 * PAGE_SIZE)

static const struct {
	int advice;
	unsigned long bit;
} advs[] = {
	{ MADV_DONTFORK, SMAPS_DONTFORK }, { MADV_DONTDUMP, SMAPS_DONTDUMP },	  { MADV_SEQUENTIAL, SMAPS_SEQ },
	{ MADV_RANDOM, SMAPS_RAND },	   { MADV_WIPEONFORK, SMAPS_WIPEONFORK }, { MADV_NOHUGEPAGE, SMAPS_NOHUGE },
};

#define WATCHED (SMAPS_DONTFORK | SMAPS_DONTDUMP | SMAPS_SEQ | SMAPS_RAND | SMAPS_WIPEONFORK | SMAPS_NOHUGE)

int main(int argc, char **argv)
{
	uint8_t *m[ARRAY_SIZE(advs)];
	unsigned long bits;
	unsigned i, j;

	test_init(argc, argv);

	for (i = 0; i < ARRAY_SIZE(advs); i++) {
		/* PROT_EXEC on every other one keeps neighbours from merging into one VMA */
		m[i] = mmap(NULL, LEN, PROT_READ | PROT_WRITE | (i % 2 ? PROT_EXEC : 0), MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m[i] == MAP_FAILED || madvise(m[i], LEN, advs[i].advice)) {
			pr_perror("mmap/madvise %u", i);
			return 1;
		}
		for (j = 0; j < LEN; j += 512)
			m[i][j] = (uint8_t)(i * 13 + j / 512);
		if (vma_bits((unsigned long)m[i], &bits) || (bits & WATCHED) != advs[i].bit) {
			pr_err("mapping %u: flags %#lx before C/R, expected %#lx\n", i, bits & WATCHED, advs[i].bit);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < ARRAY_SIZE(advs); i++) {
		if (vma_bits((unsigned long)m[i], &bits) || (bits & WATCHED) != advs[i].bit) {
			fail("mapping %u: flags %#lx after C/R, expected %#lx", i, bits & WATCHED, advs[i].bit);
			return 1;
		}
		for (j = 0; j < LEN; j += 512)
			if (m[i][j] != (uint8_t)(i * 13 + j / 512)) {
				fail("mapping %u: data at %u changed", i, j);
				return 1;
			}
	}
	pass();
	return 0;
}
