#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

#include "zdtmtst.h"

const char *test_doc = "Guard regions (MADV_GUARD_INSTALL) on 2 pages in the middle of a 16-page anonymous region: "
		       "after C/R touching them raises SIGSEGV and the other pages keep their data";
const char *test_author = "Stasis developers";

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#define PM_GUARD_REGION (1ULL << 58)

#define NPAGES 16
#define GUARD_FIRST 7
#define GUARD_PAGES 2

static sigjmp_buf jb;
static volatile sig_atomic_t segvs;

static void on_segv(int sig)
{
	segvs++;
	siglongjmp(jb, 1);
}

static int is_guard(int pg)
{
	return pg >= GUARD_FIRST && pg < GUARD_FIRST + GUARD_PAGES;
}

/* 1 if reading @p faults */
static int read_faults(volatile uint8_t *p)
{
	if (sigsetjmp(jb, 1) == 0) {
		(void)*p;
		return 0;
	}
	return 1;
}

/* The pagemap guard bit of each page: -1 if pagemap can't be read */
static int pagemap_guards(uint8_t *area, int *bits)
{
	uint64_t ent[NPAGES];
	int fd, i;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return -1;
	if (pread(fd, ent, sizeof(ent), (unsigned long)area / PAGE_SIZE * 8) != sizeof(ent)) {
		close(fd);
		return -1;
	}
	close(fd);
	for (i = 0; i < NPAGES; i++)
		bits[i] = !!(ent[i] & PM_GUARD_REGION);
	return 0;
}

static int check(uint8_t *area, int *pm_before, const char *when)
{
	int pg, bits[NPAGES];

	for (pg = 0; pg < NPAGES; pg++) {
		uint8_t *p = area + pg * PAGE_SIZE;
		int f;

		segvs = 0;
		f = read_faults(p + 11);
		if (f != is_guard(pg)) {
			fail("%s: reading page %d %s", when, pg, f ? "faults" : "does not fault: the guard is gone");
			return 1;
		}
		if (!f && (p[0] != (uint8_t)(0x40 + pg) || p[PAGE_SIZE - 1] != (uint8_t)(0x80 + pg))) {
			fail("%s: data of page %d changed", when, pg);
			return 1;
		}
	}
	if (pm_before && pagemap_guards(area, bits) == 0)
		for (pg = 0; pg < NPAGES; pg++)
			if (bits[pg] != pm_before[pg]) {
				fail("%s: pagemap guard bit of page %d is %d, was %d", when, pg, bits[pg], pm_before[pg]);
				return 1;
			}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_segv };
	int pg, bits[NPAGES], have_pm;
	uint8_t *area;

	test_init(argc, argv);

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL)) {
		pr_perror("sigaction");
		return 1;
	}
	area = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	for (pg = 0; pg < NPAGES; pg++) {
		area[pg * PAGE_SIZE] = 0x40 + pg;
		area[pg * PAGE_SIZE + PAGE_SIZE - 1] = 0x80 + pg;
	}
	if (madvise(area + GUARD_FIRST * PAGE_SIZE, GUARD_PAGES * PAGE_SIZE, MADV_GUARD_INSTALL)) {
		if (errno == EINVAL) {
			skip("MADV_GUARD_INSTALL is not supported");
			test_daemon();
			test_waitsig();
			pass();
			return 0;
		}
		pr_perror("madvise(MADV_GUARD_INSTALL)");
		return 1;
	}
	/* The data of the guarded pages is gone: only the others are checked */
	have_pm = pagemap_guards(area, bits) == 0 && bits[GUARD_FIRST];
	test_msg("pagemap shows the guards: %d\n", have_pm);
	if (check(area, have_pm ? bits : NULL, "before C/R"))
		return 1;

	test_daemon();
	test_waitsig();

	if (check(area, have_pm ? bits : NULL, "after C/R"))
		return 1;
	pass();
	return 0;
}
