#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

#include "zdtmtst.h"

const char *test_doc = "A MAP_GROWSDOWN area keeps the 'gd' VmFlag and its data, and still grows down on access after C/R";
const char *test_author = "Stasis developers";

#define HOLE (16 << 20)     /* free space below the area, far more than stack_guard_gap */
#define AREA (8 * PAGE_SIZE)
#define GROW_PAGES 3

static sigjmp_buf segv_env;

static void segv(int sig)
{
	siglongjmp(segv_env, 1);
}

/* Find the VMA that contains addr: its start, end and the VmFlags line from smaps. */
static int vma_info(unsigned long addr, unsigned long *start, unsigned long *end, char *flags, size_t len)
{
	char line[512];
	unsigned long s, e;
	int in = 0, ret = -1;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* VMA header lines are the only ones that start with "hex-hex" */
		if (sscanf(line, "%lx-%lx", &s, &e) == 2) {
			in = addr >= s && addr < e;
			if (in) {
				*start = s;
				*end = e;
			}
		} else if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(flags, len, "%s", line);
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned long s0, e0, s, e;
	char flags0[512], flags[512];
	struct sigaction sa = {};
	uint8_t *res, *area;
	volatile uint8_t *below;
	uint32_t crc;
	int i;

	test_init(argc, argv);

	res = mmap(NULL, HOLE + AREA, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED) {
		pr_perror("reserve");
		return 1;
	}
	if (munmap(res, HOLE + AREA)) {
		pr_perror("munmap");
		return 1;
	}
	area = mmap(res + HOLE, AREA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED_NOREPLACE,
		    -1, 0);
	if (area == MAP_FAILED) {
		pr_perror("mmap MAP_GROWSDOWN");
		return 1;
	}
	crc = ~0;
	datagen(area, AREA, &crc);
	if (vma_info((unsigned long)area, &s0, &e0, flags0, sizeof(flags0))) {
		pr_err("growsdown area not found in smaps\n");
		return 1;
	}
	if (!strstr(flags0, " gd")) {
		pr_err("no 'gd' in VmFlags: %s", flags0);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (vma_info((unsigned long)area, &s, &e, flags, sizeof(flags))) {
		fail("growsdown area is gone");
		return 1;
	}
	if (s != s0 || e != e0 || strcmp(flags, flags0)) {
		fail("area %lx-%lx %s became %lx-%lx %s", s0, e0, flags0, s, e, flags);
		return 1;
	}
	crc = ~0;
	if (datachk(area, AREA, &crc)) {
		fail("growsdown area data corrupted");
		return 1;
	}

	/* Touch the pages below the start: the kernel must extend the VMA down. */
	sa.sa_handler = segv;
	sigaction(SIGSEGV, &sa, NULL);
	below = area - GROW_PAGES * PAGE_SIZE;
	if (sigsetjmp(segv_env, 1)) {
		fail("SIGSEGV below the growsdown area: it no longer grows (VM_GROWSDOWN lost?)");
		return 1;
	}
	for (i = GROW_PAGES - 1; i >= 0; i--)
		below[i * PAGE_SIZE] = 0x42 + i;
	sa.sa_handler = SIG_DFL;
	sigaction(SIGSEGV, &sa, NULL);

	if (vma_info((unsigned long)area, &s, &e, flags, sizeof(flags)) ||
	    s != (unsigned long)area - GROW_PAGES * PAGE_SIZE || e != e0 || !strstr(flags, " gd")) {
		fail("after the access the area is %lx-%lx (%s), expected start %lx", s, e, flags,
		     (unsigned long)area - GROW_PAGES * PAGE_SIZE);
		return 1;
	}
	for (i = 0; i < GROW_PAGES; i++)
		if (below[i * PAGE_SIZE] != 0x42 + i) {
			fail("grown page %d lost its value", i);
			return 1;
		}

	pass();
	return 0;
}
