#include <sys/mman.h>
#include <sys/prctl.h>

#include "zdtmtst.h"

const char *test_doc = "Check that anonymous VMA names (PR_SET_VMA_ANON_NAME) survive C/R: two regions show "
		       "[anon:NAME] with their own names in /proc/self/maps";
const char *test_author = "Stasis developers";

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

#define NPAGES 3

static const char *names[2] = { "zdtm-first", "zdtm second name" };

/* The name column of the maps line that starts at @addr and ends at @addr + NPAGES pages */
static int maps_name(uint8_t *addr, char *buf, size_t len)
{
	char line[512], *p;
	unsigned long s, e;
	int ret = -1, n;
	FILE *f;

	buf[0] = 0;
	f = fopen("/proc/self/maps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &s, &e, &n) != 2 || s != (unsigned long)addr)
			continue;
		if (e != (unsigned long)addr + NPAGES * PAGE_SIZE)
			break;
		p = line + n;
		p[strcspn(p, "\n")] = 0;
		snprintf(buf, len, "%s", p);
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

static int check(uint8_t **r, const char *when)
{
	char name[256], want[256];
	int i;

	for (i = 0; i < 2; i++) {
		snprintf(want, sizeof(want), "[anon:%s]", names[i]);
		if (maps_name(r[i], name, sizeof(name)) || strcmp(name, want)) {
			fail("%s: region %p (%d pages) is named '%s' in maps, expected '%s'", when, r[i], NPAGES, name,
			     want);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t *r[2], *base;
	int i;

	test_init(argc, argv);

	base = mmap(NULL, (2 * NPAGES + 1) * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	/* two regions that would merge without their names, split by a one-page hole */
	munmap(base + NPAGES * PAGE_SIZE, PAGE_SIZE);
	r[0] = base;
	r[1] = base + (NPAGES + 1) * PAGE_SIZE;
	for (i = 0; i < 2; i++) {
		memset(r[i], 0x31 + i, NPAGES * PAGE_SIZE);
		if (prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, r[i], NPAGES * PAGE_SIZE, names[i])) {
			if (errno == EINVAL && i == 0) {
				skip("anonymous VMA names are not supported");
				test_daemon();
				test_waitsig();
				pass();
				return 0;
			}
			pr_perror("PR_SET_VMA_ANON_NAME");
			return 1;
		}
	}
	if (check(r, "before C/R"))
		return 1;

	test_daemon();
	test_waitsig();

	if (check(r, "after C/R"))
		return 1;
	for (i = 0; i < 2; i++)
		if (r[i][0] != 0x31 + i || r[i][NPAGES * PAGE_SIZE - 1] != 0x31 + i) {
			fail("data of region %d changed", i);
			return 1;
		}
	pass();
	return 0;
}
