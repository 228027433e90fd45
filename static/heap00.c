#include <malloc.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "malloc'd heap data survives, the program break is unchanged, "
		       "and the heap still grows with sbrk after restore";
const char *test_author = "Stasis developers";

#define NR_BLOCKS 64
#define GROW (256 * 1024)

struct block {
	uint8_t *p;
	unsigned len;
};

static struct block blocks[NR_BLOCKS];

/*
 * Return 0 and fill start/end with the bounds of the heap, or -1 when there is none.
 * The heap may be several adjacent VMAs, all labelled [heap] (e.g. one made before
 * fork and one grown after it): take their union.
 */
static int heap_vma(unsigned long *start, unsigned long *end)
{
	unsigned long s, e;
	char line[512];
	FILE *f;
	int ret = -1;

	f = fopen("/proc/self/maps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "[heap]") || sscanf(line, "%lx-%lx", &s, &e) != 2)
			continue;
		if (ret == 0 && s != *end) {
			ret = -1; /* two [heap] pieces with a hole between them */
			break;
		}
		if (ret)
			*start = s;
		*end = e;
		ret = 0;
	}
	fclose(f);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned long hs_before, he_before, hs, he;
	void *brk_before, *brk_now, *p;
	uint32_t crc;
	unsigned i;

	test_init(argc, argv);

	/*
	 * Keep plenty of slack at the top of the heap and never trim it, so that
	 * incidental allocations by the library cannot move the break.
	 */
	mallopt(M_TOP_PAD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 1 << 20);

	for (i = 0; i < NR_BLOCKS; i++) {
		blocks[i].len = 16 + (lrand48() % 32768);
		blocks[i].p = malloc(blocks[i].len);
		if (!blocks[i].p) {
			pr_perror("malloc");
			return 1;
		}
		crc = ~0;
		datagen(blocks[i].p, blocks[i].len, &crc);
	}
	/* Free every third block: the free lists are part of the heap state too. */
	for (i = 0; i < NR_BLOCKS; i += 3) {
		free(blocks[i].p);
		blocks[i].p = NULL;
	}

	brk_before = sbrk(0);
	if (heap_vma(&hs_before, &he_before)) {
		pr_err("no [heap] before C/R\n");
		return 1;
	}
	test_msg("heap %lx-%lx brk %p\n", hs_before, he_before, brk_before);

	test_daemon();
	test_waitsig();

	brk_now = sbrk(0);
	if (brk_now != brk_before) {
		fail("program break moved: %p -> %p", brk_before, brk_now);
		return 1;
	}
	if (heap_vma(&hs, &he)) {
		fail("no [heap] line in maps after C/R");
		return 1;
	}
	if (hs != hs_before || he != he_before) {
		fail("[heap] changed: %lx-%lx -> %lx-%lx", hs_before, he_before, hs, he);
		return 1;
	}
	for (i = 0; i < NR_BLOCKS; i++) {
		if (!blocks[i].p)
			continue;
		crc = ~0;
		if (datachk(blocks[i].p, blocks[i].len, &crc)) {
			fail("heap block %u (%u bytes at %p) corrupted", i, blocks[i].len, blocks[i].p);
			return 1;
		}
	}

	/* The allocator must still work on the restored heap. */
	for (i = 0; i < NR_BLOCKS; i++) {
		free(blocks[i].p);
		blocks[i].p = malloc(1000 + i);
		if (!blocks[i].p) {
			fail("malloc after C/R");
			return 1;
		}
		memset(blocks[i].p, i, 1000 + i);
	}

	/* The kernel must still let the break grow: mm->brk/start_brk restored correctly. */
	p = sbrk(GROW);
	if (p == (void *)-1) {
		fail("sbrk(%d) after C/R", GROW);
		return 1;
	}
	if (p != brk_now) {
		fail("sbrk returned %p, expected the old break %p", p, brk_now);
		return 1;
	}
	memset(p, 0x5a, GROW);
	if (sbrk(0) != (char *)p + GROW) {
		fail("break is %p after growing, expected %p", sbrk(0), (char *)p + GROW);
		return 1;
	}
	if (heap_vma(&hs, &he) || hs != hs_before || he < (unsigned long)p + GROW) {
		fail("[heap] did not grow: %lx-%lx, break %p", hs, he, sbrk(0));
		return 1;
	}
	if (brk(p)) {
		fail("brk back to %p", p);
		return 1;
	}

	pass();
	return 0;
}
