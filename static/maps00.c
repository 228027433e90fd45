#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Private anonymous areas with every protection combination keep their contents and /proc/self/maps lines";
const char *test_author = "Stasis developers";

#define AREA_PAGES 4
#define AREA_SIZE (AREA_PAGES * PAGE_SIZE)

static const int prots[] = {
	PROT_NONE,
	PROT_READ,
	PROT_WRITE,
	PROT_READ | PROT_WRITE,
	PROT_EXEC,
	PROT_READ | PROT_EXEC,
	PROT_WRITE | PROT_EXEC,
	PROT_READ | PROT_WRITE | PROT_EXEC,
};
#define NR_AREAS ARRAY_SIZE(prots)

struct area {
	uint8_t *addr;
	char maps_line[512];
	uint8_t copy[AREA_SIZE];
};

static struct area areas[NR_AREAS];

/* Copy the /proc/self/maps line that starts exactly at addr into buf. */
static int maps_line(void *addr, char *buf, size_t len)
{
	char prefix[32], line[512];
	FILE *f;
	int found = 0;

	snprintf(prefix, sizeof(prefix), "%lx-", (unsigned long)addr);
	f = fopen("/proc/self/maps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, prefix, strlen(prefix))) {
			snprintf(buf, len, "%s", line);
			found = 1;
			break;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

int main(int argc, char **argv)
{
	uint8_t *region;
	unsigned i;
	uint32_t crc;

	test_init(argc, argv);

	/* One reservation, then holes between the areas so no two of them can merge. */
	region = mmap(NULL, NR_AREAS * 2 * AREA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	for (i = 0; i < NR_AREAS; i++) {
		struct area *a = &areas[i];

		a->addr = region + 2 * i * AREA_SIZE;
		if (munmap(a->addr + AREA_SIZE, AREA_SIZE)) {
			pr_perror("munmap hole");
			return 1;
		}
		crc = ~0;
		datagen(a->addr, AREA_SIZE, &crc);
		memcpy(a->copy, a->addr, AREA_SIZE);
		if (mprotect(a->addr, AREA_SIZE, prots[i])) {
			pr_perror("mprotect %d", prots[i]);
			return 1;
		}
		if (maps_line(a->addr, a->maps_line, sizeof(a->maps_line))) {
			pr_err("no maps line for area %u\n", i);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < NR_AREAS; i++) {
		struct area *a = &areas[i];
		char now[512];

		if (maps_line(a->addr, now, sizeof(now))) {
			fail("area %u (%p, prot %d) is gone from maps", i, a->addr, prots[i]);
			return 1;
		}
		if (strcmp(now, a->maps_line)) {
			fail("area %u maps line changed:\n  before: %s  after:  %s", i, a->maps_line, now);
			return 1;
		}
	}
	for (i = 0; i < NR_AREAS; i++) {
		struct area *a = &areas[i];

		if (mprotect(a->addr, AREA_SIZE, PROT_READ)) {
			fail("mprotect area %u readable", i);
			return 1;
		}
		crc = ~0;
		if (datachk(a->addr, AREA_SIZE, &crc) || memcmp(a->addr, a->copy, AREA_SIZE)) {
			fail("contents of area %u (prot %d) changed", i, prots[i]);
			return 1;
		}
	}

	pass();
	return 0;
}
