#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "The time namespace the flavor puts the test in (monotonic and boottime offsets in "
		       "/proc/self/timens_offsets): after C/R the offsets are those of before (restored on the "
		       "same boot), CLOCK_MONOTONIC has not gone back, and CLOCK_BOOTTIME - CLOCK_MONOTONIC "
		       "still equals the difference of the two offsets (plus the host's suspended time)";
const char *test_author = "Stasis developers";

#define NSEC 1000000000LL

struct offs {
	int64_t mono, boot;
};

static int offsets(struct offs *o)
{
	char name[32];
	int64_t sec, nsec;
	FILE *f;

	o->mono = o->boot = 0;
	f = fopen("/proc/self/timens_offsets", "r");
	if (!f)
		return pr_perror("open timens_offsets");
	while (fscanf(f, "%31s %" SCNd64 " %" SCNd64, name, &sec, &nsec) == 3) {
		if (!strcmp(name, "monotonic"))
			o->mono = sec * NSEC + nsec;
		else if (!strcmp(name, "boottime"))
			o->boot = sec * NSEC + nsec;
	}
	fclose(f);
	return 0;
}

static int64_t now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * NSEC + ts.tv_nsec;
}

/* boottime - monotonic as the test sees it, less what the offsets account for: the host's suspend time */
static int64_t suspended(const struct offs *o)
{
	return (now(CLOCK_BOOTTIME) - now(CLOCK_MONOTONIC)) - (o->boot - o->mono);
}

int main(int argc, char **argv)
{
	struct offs before, after;
	int64_t mono, susp;

	test_init(argc, argv);

	if (offsets(&before))
		return 1;
	if (!before.mono && !before.boot) {
		pr_err("the test is in a time namespace without offsets\n");
		return 1;
	}
	susp = suspended(&before);
	mono = now(CLOCK_MONOTONIC);

	test_daemon();
	test_waitsig();

	if (offsets(&after))
		return 1;
	if (after.mono != before.mono || after.boot != before.boot) {
		errno = 0;
		fail("offsets after C/R: monotonic %" PRId64 " boottime %" PRId64 ", were %" PRId64 " %" PRId64,
		     after.mono, after.boot, before.mono, before.boot);
		return 1;
	}
	if (now(CLOCK_MONOTONIC) < mono) {
		errno = 0;
		fail("CLOCK_MONOTONIC went back over C/R");
		return 1;
	}
	/* 10 ms of slack for the two clock reads */
	if (llabs(suspended(&after) - susp) > 10000000) {
		errno = 0;
		fail("boottime - monotonic moved by %" PRId64 " ns over C/R", suspended(&after) - susp);
		return 1;
	}
	pass();
	return 0;
}
