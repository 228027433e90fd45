#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "[vdso] and [vvar*] stay at the same addresses, and clock_gettime/gettimeofday/time "
		       "through the vDSO still work, agree with the syscalls and are monotonic across C/R";
const char *test_author = "Stasis developers";

#define MAX_SPECIAL 8

struct special {
	char name[64];
	unsigned long start, end;
};

static int read_special(struct special *sp)
{
	char line[512], name[64];
	unsigned long s, e;
	int n = 0;
	FILE *f;

	f = fopen("/proc/self/maps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %63s", &s, &e, name) != 3)
			continue;
		if (strncmp(name, "[vdso]", 6) && strncmp(name, "[vvar", 5))
			continue;
		if (n == MAX_SPECIAL)
			break;
		snprintf(sp[n].name, sizeof(sp[n].name), "%s", name);
		sp[n].start = s;
		sp[n].end = e;
		n++;
	}
	fclose(f);
	return n;
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

/* Compare the vDSO clock with the real syscall: they read the same kernel clock. */
static int check_clock(clockid_t clk, const char *name)
{
	struct timespec a, b, c;

	if (clock_gettime(clk, &a) || syscall(SYS_clock_gettime, clk, &b) || clock_gettime(clk, &c)) {
		fail("clock_gettime(%s)", name);
		return 1;
	}
	if (ts_ns(&a) > ts_ns(&b) || ts_ns(&b) > ts_ns(&c)) {
		fail("%s: vdso %lld, syscall %lld, vdso %lld are not ordered (stale vvar data?)", name,
		     (long long)ts_ns(&a), (long long)ts_ns(&b), (long long)ts_ns(&c));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct special before[MAX_SPECIAL], after[MAX_SPECIAL];
	struct timespec mono0, mono1, real0, boot0, boot1;
	struct timeval tv0, tv1;
	unsigned long ehdr;
	int nb, na, i, vdso_found = 0;
	time_t t0, t1;

	test_init(argc, argv);

	nb = read_special(before);
	ehdr = getauxval(AT_SYSINFO_EHDR);
	for (i = 0; i < nb; i++)
		if (!strcmp(before[i].name, "[vdso]"))
			vdso_found = before[i].start == ehdr;
	if (!vdso_found) {
		pr_err("no [vdso] at AT_SYSINFO_EHDR %#lx\n", ehdr);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &mono0);
	clock_gettime(CLOCK_REALTIME, &real0);
	clock_gettime(CLOCK_BOOTTIME, &boot0);
	gettimeofday(&tv0, NULL);
	t0 = time(NULL);

	test_daemon();
	test_waitsig();

	na = read_special(after);
	if (na != nb) {
		fail("%d vdso/vvar areas before C/R, %d after", nb, na);
		return 1;
	}
	for (i = 0; i < nb; i++)
		if (strcmp(before[i].name, after[i].name) || before[i].start != after[i].start ||
		    before[i].end != after[i].end) {
			fail("%s %lx-%lx became %s %lx-%lx", before[i].name, before[i].start, before[i].end,
			     after[i].name, after[i].start, after[i].end);
			return 1;
		}

	if (clock_gettime(CLOCK_MONOTONIC, &mono1) || ts_ns(&mono1) < ts_ns(&mono0)) {
		fail("CLOCK_MONOTONIC went back: %lld -> %lld", (long long)ts_ns(&mono0), (long long)ts_ns(&mono1));
		return 1;
	}
	if (clock_gettime(CLOCK_BOOTTIME, &boot1) || ts_ns(&boot1) < ts_ns(&boot0)) {
		fail("CLOCK_BOOTTIME went back");
		return 1;
	}
	gettimeofday(&tv1, NULL);
	t1 = time(NULL);
	if (tv1.tv_sec < tv0.tv_sec || t1 < t0 || t1 < real0.tv_sec) {
		fail("wall clock went back: gettimeofday %ld -> %ld, time %ld -> %ld", (long)tv0.tv_sec,
		     (long)tv1.tv_sec, (long)t0, (long)t1);
		return 1;
	}
	if (t1 > tv1.tv_sec + 1 || t1 < tv1.tv_sec - 1) {
		fail("time() %ld and gettimeofday %ld disagree", (long)t1, (long)tv1.tv_sec);
		return 1;
	}
	if (check_clock(CLOCK_MONOTONIC, "MONOTONIC") || check_clock(CLOCK_REALTIME, "REALTIME") ||
	    check_clock(CLOCK_BOOTTIME, "BOOTTIME"))
		return 1;
	if (getauxval(AT_SYSINFO_EHDR) != ehdr) {
		fail("AT_SYSINFO_EHDR changed");
		return 1;
	}

	pass();
	return 0;
}
