#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "2048 one-page VMAs made by alternating protections, each page with its own marker";
const char *test_author = "Stasis developers";

#define NR_VMAS 2048

static uint64_t marker(unsigned i)
{
	return 0xa0a0000000000000ULL ^ ((uint64_t)i * 0x100000001b3ULL);
}

static int prot_of(unsigned i)
{
	return i % 2 ? PROT_READ : PROT_READ | PROT_WRITE;
}

/* Count the VMAs inside [start, end) and check each one's size and permissions. */
static int check_vmas(unsigned long start, unsigned long end, int *count)
{
	char line[512], perms[8];
	unsigned long s, e;
	FILE *f;
	int bad = 0;

	*count = 0;
	f = fopen("/proc/self/maps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned idx;

		if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) != 3 || e <= start || s >= end)
			continue;
		(*count)++;
		idx = (s - start) / PAGE_SIZE;
		if (s < start || e > end || e - s != PAGE_SIZE || perms[0] != 'r' ||
		    (perms[1] == 'w') != !!(prot_of(idx) & PROT_WRITE) || perms[3] != 'p') {
			if (!bad)
				test_msg("unexpected VMA in the region: %s", line);
			bad = 1;
		}
	}
	fclose(f);
	return bad;
}

int main(int argc, char **argv)
{
	uint8_t *map;
	unsigned i;
	int count;

	test_init(argc, argv);

	map = mmap(NULL, NR_VMAS * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	for (i = 0; i < NR_VMAS; i++) {
		uint64_t *p = (uint64_t *)(map + i * PAGE_SIZE);

		p[0] = marker(i);
		p[PAGE_SIZE / 8 - 1] = ~marker(i);
	}
	for (i = 1; i < NR_VMAS; i += 2)
		if (mprotect(map + i * PAGE_SIZE, PAGE_SIZE, prot_of(i))) {
			pr_perror("mprotect page %u", i);
			return 1;
		}
	if (check_vmas((unsigned long)map, (unsigned long)map + NR_VMAS * PAGE_SIZE, &count) || count != NR_VMAS) {
		pr_err("setup produced %d VMAs, expected %d\n", count, NR_VMAS);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (check_vmas((unsigned long)map, (unsigned long)map + NR_VMAS * PAGE_SIZE, &count) || count != NR_VMAS) {
		fail("%d VMAs in the region after C/R (or wrong layout), expected %d", count, NR_VMAS);
		return 1;
	}
	for (i = 0; i < NR_VMAS; i++) {
		uint64_t *p = (uint64_t *)(map + i * PAGE_SIZE);

		if (p[0] != marker(i) || p[PAGE_SIZE / 8 - 1] != ~marker(i)) {
			fail("marker of VMA %u is wrong: %#llx", i, (unsigned long long)p[0]);
			return 1;
		}
	}

	pass();
	return 0;
}
