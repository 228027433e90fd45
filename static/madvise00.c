#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "madvise flags (DONTFORK, DONTDUMP, RANDOM, SEQUENTIAL, HUGEPAGE, NOHUGEPAGE) on "
		       "separate areas: VmFlags in /proc/self/smaps unchanged";
const char *test_author = "Stasis developers";

static const struct {
	int advice;
	const char *name;
	const char *flag; /* the VmFlags mnemonic the advice sets */
} advs[] = {
	{ MADV_DONTFORK, "DONTFORK", "dc" },
	{ MADV_DONTDUMP, "DONTDUMP", "dd" },
	{ MADV_RANDOM, "RANDOM", "rr" },
	{ MADV_SEQUENTIAL, "SEQUENTIAL", "sr" },
	{ MADV_HUGEPAGE, "HUGEPAGE", "hg" },
	{ MADV_NOHUGEPAGE, "NOHUGEPAGE", "nh" },
};
#define NR ARRAY_SIZE(advs)
#define AREA (4 * PAGE_SIZE)

struct area {
	uint8_t *addr;
	int used;
	char vmflags[512];
};
static struct area areas[NR + 1]; /* the last one gets no advice at all */

/* Find the smaps entry that starts at addr and copy its VmFlags line. */
static int vmflags(void *addr, char *buf, size_t len)
{
	char line[512], prefix[32];
	int in = 0, ret = -1;
	FILE *f;

	snprintf(prefix, sizeof(prefix), "%lx-", (unsigned long)addr);
	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, prefix, strlen(prefix)))
			in = 1;
		else if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(buf, len, "%s", line);
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

static int has_flag(const char *vmf, const char *flag)
{
	char pat[8];

	snprintf(pat, sizeof(pat), " %s ", flag);
	return strstr(vmf, pat) != NULL;
}

int main(int argc, char **argv)
{
	uint8_t *region;
	unsigned i;
	uint32_t crc;

	test_init(argc, argv);

	region = mmap(NULL, (NR + 1) * 2 * AREA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	for (i = 0; i <= NR; i++) {
		struct area *a = &areas[i];

		a->addr = region + 2 * i * AREA;
		if (munmap(a->addr + AREA, AREA)) {
			pr_perror("munmap");
			return 1;
		}
		crc = ~0;
		datagen(a->addr, AREA, &crc);
		a->used = 1;
		if (i < NR && madvise(a->addr, AREA, advs[i].advice)) {
			if (errno == EINVAL && (advs[i].advice == MADV_HUGEPAGE || advs[i].advice == MADV_NOHUGEPAGE)) {
				test_msg("MADV_%s unsupported here (no THP), area left without it\n", advs[i].name);
				a->used = 0;
			} else {
				pr_perror("madvise %s", advs[i].name);
				return 1;
			}
		}
		if (vmflags(a->addr, a->vmflags, sizeof(a->vmflags))) {
			pr_err("no smaps entry for area %u\n", i);
			return 1;
		}
		if (i < NR && a->used && !has_flag(a->vmflags, advs[i].flag)) {
			pr_err("MADV_%s did not set '%s': %s", advs[i].name, advs[i].flag, a->vmflags);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i <= NR; i++) {
		struct area *a = &areas[i];
		char now[512];

		if (vmflags(a->addr, now, sizeof(now))) {
			fail("area %u (%s) is gone from smaps", i, i < NR ? advs[i].name : "no advice");
			return 1;
		}
		if (strcmp(now, a->vmflags)) {
			fail("VmFlags of the MADV_%s area changed:\n  before: %s  after:  %s",
			     i < NR ? advs[i].name : "(none)", a->vmflags, now);
			return 1;
		}
		crc = ~0;
		if (datachk(a->addr, AREA, &crc)) {
			fail("contents of area %u corrupted", i);
			return 1;
		}
	}

	pass();
	return 0;
}
