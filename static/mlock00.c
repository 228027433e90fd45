#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "zdtmtst.h"

const char *test_doc = "Check that an mlock()ed range survives C/R: VmFlags 'lo' only on it, VmLck, and its contents";
const char *test_author = "Stasis developers";

#define NPAGES 12
#define LOCK_FIRST 4
#define LOCK_PAGES 4

/* 1 if the VMA holding @addr has the "lo" VmFlag, 0 if not, -1 if there is none; its bounds in @vs, @ve */
static int vma_locked(unsigned long addr, unsigned long *vs, unsigned long *ve)
{
	char line[512];
	unsigned long s, e;
	int in = 0, ret = -1;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2) {
			in = (s <= addr && addr < e);
			if (in) {
				*vs = s;
				*ve = e;
			}
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8)) {
			ret = strstr(line, " lo") != NULL;
			break;
		}
	}
	fclose(f);
	return ret;
}

static long status_kb(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = atol(line + klen + 1);
			break;
		}
	fclose(f);
	return v;
}

/*
 * The locked pages must form one VMA of exactly the locked range; every other page of the area must be
 * unlocked (those may merge with unrelated neighbours after restore: fresh VMAs share an anon_vma).
 */
static int check_layout(uint8_t *area, int restored)
{
	unsigned long lock_start = (unsigned long)area + LOCK_FIRST * PAGE_SIZE;
	unsigned long lock_end = lock_start + LOCK_PAGES * PAGE_SIZE;
	unsigned long addr, vs = 0, ve = 0;
	int lo, want;

	for (addr = (unsigned long)area; addr < (unsigned long)area + NPAGES * PAGE_SIZE; addr += PAGE_SIZE) {
		want = addr >= lock_start && addr < lock_end;
		lo = vma_locked(addr, &vs, &ve);
		if (lo == want && (!want || (vs == lock_start && ve == lock_end)))
			continue;
		if (restored)
			fail("page %#lx (in VMA %#lx-%#lx): locked %d, expected %d; the locked VMA must be %#lx-%#lx",
			     addr, vs, ve, lo, want, lock_start, lock_end);
		else
			pr_err("page %#lx (in VMA %#lx-%#lx): locked %d, expected %d\n", addr, vs, ve, lo, want);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t *area;
	uint32_t crc;
	long vmlck_before, vmlck;
	struct rlimit rl;

	test_init(argc, argv);

	if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_cur < LOCK_PAGES * PAGE_SIZE) {
		skip("RLIMIT_MEMLOCK is below %d bytes", LOCK_PAGES * PAGE_SIZE);
		test_daemon();
		test_waitsig();
		pass();
		return 0;
	}

	area = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	crc = ~0;
	datagen(area, NPAGES * PAGE_SIZE, &crc);
	if (mlock(area + LOCK_FIRST * PAGE_SIZE, LOCK_PAGES * PAGE_SIZE)) {
		pr_perror("mlock");
		return 1;
	}
	if (check_layout(area, 0))
		return 1;
	vmlck_before = status_kb("VmLck");
	if (vmlck_before < LOCK_PAGES * PAGE_SIZE / 1024) {
		pr_err("VmLck is %ld kB after locking %d kB\n", vmlck_before, LOCK_PAGES * PAGE_SIZE / 1024);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (check_layout(area, 1))
		return 1;
	vmlck = status_kb("VmLck");
	if (vmlck != vmlck_before) {
		fail("VmLck is %ld kB, was %ld kB", vmlck, vmlck_before);
		return 1;
	}
	crc = ~0;
	if (datachk(area, NPAGES * PAGE_SIZE, &crc)) {
		fail("the contents of the area changed");
		return 1;
	}

	pass();
	return 0;
}
