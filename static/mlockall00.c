#include <sys/mman.h>
#include <sys/resource.h>

#include "zdtmtst.h"
#include "vmflags.h"

#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

#ifndef MLOCKALL_ONFAULT
#define MLOCKALL_ONFAULT 0
const char *test_doc = "Check that mlockall(MCL_FUTURE) survives C/R: a mapping made afterwards is locked (VmFlags lo, "
		       "VmLck grows, pages populated) and a mapping made before is not";
#endif
const char *test_author = "Stasis developers";

#define NPAGES 8

static long vmlck_kb(void)
{
	char line[256];
	long v = -1;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmLck:", 6)) {
			v = atol(line + 6);
			break;
		}
	fclose(f);
	return v;
}

/* A fresh mapping must be locked as MCL_FUTURE (and MCL_ONFAULT) say */
static int check_future(const char *when)
{
	unsigned char vec[NPAGES];
	char flags[512];
	long lck0, lck1;
	uint8_t *p;
	int i, ret = 1;

	lck0 = vmlck_kb();
	p = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fail("%s: mmap of a new region", when);
		return 1;
	}
	lck1 = vmlck_kb();
	if (vma_flags((unsigned long)p, flags, sizeof(flags), NULL, NULL)) {
		fail("%s: no VMA for the new region", when);
		goto out;
	}
	if (!has_vmflag(flags, "lo")) {
		fail("%s: a new mapping is not locked (VmFlags '%s'): MCL_FUTURE is lost", when, flags);
		goto out;
	}
	if (has_vmflag(flags, "lf") != MLOCKALL_ONFAULT) {
		fail("%s: a new mapping has VmFlags '%s', lf expected %d", when, flags, MLOCKALL_ONFAULT);
		goto out;
	}
	if (lck1 - lck0 != NPAGES * PAGE_SIZE / 1024) {
		fail("%s: VmLck went from %ld to %ld kB with a new %d kB mapping", when, lck0, lck1,
		     NPAGES * PAGE_SIZE / 1024);
		goto out;
	}
	if (mincore(p, NPAGES * PAGE_SIZE, vec)) {
		fail("%s: mincore", when);
		goto out;
	}
	for (i = 0; i < NPAGES; i++)
		if ((vec[i] & 1) == MLOCKALL_ONFAULT) {
			fail("%s: page %d of a new locked mapping resident %d (on-fault %d)", when, i, vec[i] & 1,
			     MLOCKALL_ONFAULT);
			goto out;
		}
	ret = 0;
out:
	munmap(p, NPAGES * PAGE_SIZE);
	return ret;
}

int main(int argc, char **argv)
{
	char flags[512];
	struct rlimit rl;
	uint8_t *old;

	test_init(argc, argv);

	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_MEMLOCK, &rl);
	}
	if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_cur < 4 * NPAGES * PAGE_SIZE) {
		skip("RLIMIT_MEMLOCK is below %d bytes", 4 * NPAGES * PAGE_SIZE);
		test_daemon();
		test_waitsig();
		pass();
		return 0;
	}

	old = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (old == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	memset(old, 0x5c, NPAGES * PAGE_SIZE);
	if (mlockall(MCL_FUTURE | (MLOCKALL_ONFAULT ? MCL_ONFAULT : 0))) {
		if (errno == EINVAL) {
			skip("mlockall flags are not supported");
			test_daemon();
			test_waitsig();
			pass();
			return 0;
		}
		pr_perror("mlockall");
		return 1;
	}
	if (check_future("before C/R"))
		return 1;

	test_daemon();
	test_waitsig();

	if (check_future("after C/R"))
		return 1;
	if (vma_flags((unsigned long)old, flags, sizeof(flags), NULL, NULL) || has_vmflag(flags, "lo")) {
		fail("the region mapped before mlockall(MCL_FUTURE) is locked now (VmFlags '%s')", flags);
		return 1;
	}
	if (old[0] != 0x5c || old[NPAGES * PAGE_SIZE - 1] != 0x5c) {
		fail("data of the older region changed");
		return 1;
	}
	pass();
	return 0;
}
