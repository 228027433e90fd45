#include "zdtmtst.h"

const char *test_doc = "malloc/free/realloc of random sizes without pause; each block carries generated data "
		       "and its checksum, verified before every free/realloc and at the end";
const char *test_author = "Stasis developers";

#define NR_SLOTS 256

struct block {
	uint8_t *p;
	size_t len;
	uint32_t sum; /* CRC of the whole block */
};

static struct block blocks[NR_SLOTS];

static size_t rand_size(void)
{
	switch (lrand48() % 8) {
	case 0:
		return 128 * 1024 + lrand48() % (384 * 1024); /* above the mmap threshold */
	case 1:
	case 2:
		return 4096 + lrand48() % 60000;
	default:
		return 1 + lrand48() % 512;
	}
}

static uint32_t crc_of(const uint8_t *p, size_t len)
{
	uint32_t crc = ~0;

	datasum(p, len, &crc);
	return crc;
}

static void fill(uint8_t *p, size_t len)
{
	uint32_t crc = ~0;

	datagen2(p, len, &crc);
}

int main(int argc, char **argv)
{
	unsigned long long iter = 0, allocs = 0, reallocs = 0, frees = 0;
	unsigned i;

	test_init(argc, argv);
	test_daemon();

	while (test_go()) {
		struct block *b = &blocks[lrand48() % NR_SLOTS];
		int op = lrand48() % 3;

		iter++;
		if (b->p && crc_of(b->p, b->len) != b->sum) {
			fail("block of %zu bytes at %p corrupted (iteration %llu)", b->len, b->p, iter);
			return 1;
		}
		if (!b->p) {
			b->len = rand_size();
			b->p = malloc(b->len);
			if (!b->p) {
				fail("malloc %zu", b->len);
				return 1;
			}
			fill(b->p, b->len);
			allocs++;
		} else if (op == 0) {
			free(b->p);
			b->p = NULL;
			frees++;
			continue;
		} else {
			size_t nlen = rand_size(), keep = nlen < b->len ? nlen : b->len;
			uint32_t prefix = crc_of(b->p, keep);
			uint8_t *np = realloc(b->p, nlen);

			if (!np) {
				fail("realloc %zu", nlen);
				return 1;
			}
			if (crc_of(np, keep) != prefix) {
				fail("realloc %zu -> %zu lost the first %zu bytes", b->len, nlen, keep);
				return 1;
			}
			b->p = np;
			if (nlen > b->len)
				fill(np + b->len, nlen - b->len);
			b->len = nlen;
			reallocs++;
		}
		b->sum = crc_of(b->p, b->len);
	}

	for (i = 0; i < NR_SLOTS; i++) {
		if (!blocks[i].p)
			continue;
		if (crc_of(blocks[i].p, blocks[i].len) != blocks[i].sum) {
			fail("block %u (%zu bytes) corrupted at the end", i, blocks[i].len);
			return 1;
		}
		free(blocks[i].p);
	}
	test_msg("%llu iterations: %llu malloc, %llu realloc, %llu free\n", iter, allocs, reallocs, frees);
	if (!allocs) {
		fail("nothing was allocated");
		return 1;
	}
	pass();
	return 0;
}
