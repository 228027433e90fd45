#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "One anonymous mapping split by mprotect into pieces with different protections: "
		       "maps lines and contents are identical after C/R";
const char *test_author = "Stasis developers";

/* Consecutive pieces always differ, so the kernel keeps them as separate VMAs. */
static const struct {
	int pages;
	int prot;
} pieces[] = {
	{ 2, PROT_READ },
	{ 1, PROT_READ | PROT_WRITE },
	{ 3, PROT_NONE },
	{ 1, PROT_READ | PROT_EXEC },
	{ 2, PROT_READ | PROT_WRITE },
	{ 1, PROT_WRITE },
	{ 4, PROT_READ },
	{ 1, PROT_NONE },
	{ 2, PROT_READ | PROT_WRITE | PROT_EXEC },
};

#define MAX_LINES 64

static int region_lines(unsigned long start, unsigned long end, char lines[][512])
{
	char line[512];
	unsigned long s, e;
	int n = 0;
	FILE *f;

	f = fopen("/proc/self/maps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &s, &e) != 2)
			continue;
		if (s < end && e > start && n < MAX_LINES)
			memcpy(lines[n++], line, sizeof(line));
	}
	fclose(f);
	return n;
}

static char before[MAX_LINES][512], after[MAX_LINES][512];

int main(int argc, char **argv)
{
	unsigned i, total = 0, off;
	uint8_t *map, *copy;
	int nb, na;
	uint32_t crc;

	test_init(argc, argv);

	for (i = 0; i < ARRAY_SIZE(pieces); i++)
		total += pieces[i].pages;
	map = mmap(NULL, total * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	copy = malloc(total * PAGE_SIZE);
	if (map == MAP_FAILED || !copy) {
		pr_perror("mmap/malloc");
		return 1;
	}
	crc = ~0;
	datagen(map, total * PAGE_SIZE, &crc);
	memcpy(copy, map, total * PAGE_SIZE);
	for (i = 0, off = 0; i < ARRAY_SIZE(pieces); off += pieces[i].pages, i++)
		if (mprotect(map + off * PAGE_SIZE, pieces[i].pages * PAGE_SIZE, pieces[i].prot)) {
			pr_perror("mprotect piece %u", i);
			return 1;
		}
	nb = region_lines((unsigned long)map, (unsigned long)map + total * PAGE_SIZE, before);
	if (nb != (int)ARRAY_SIZE(pieces)) {
		pr_err("expected %zu VMAs, found %d\n", ARRAY_SIZE(pieces), nb);
		return 1;
	}

	test_daemon();
	test_waitsig();

	na = region_lines((unsigned long)map, (unsigned long)map + total * PAGE_SIZE, after);
	if (na != nb) {
		fail("%d VMAs in the region before C/R, %d after", nb, na);
		return 1;
	}
	for (i = 0; i < (unsigned)nb; i++)
		if (strcmp(before[i], after[i])) {
			fail("VMA %u differs:\n  before: %s  after:  %s", i, before[i], after[i]);
			return 1;
		}
	if (mprotect(map, total * PAGE_SIZE, PROT_READ)) {
		fail("mprotect whole region readable");
		return 1;
	}
	crc = ~0;
	if (memcmp(map, copy, total * PAGE_SIZE) || datachk(map, total * PAGE_SIZE, &crc)) {
		fail("contents of the split mapping changed");
		return 1;
	}

	pass();
	return 0;
}
