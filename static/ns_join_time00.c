#include <time.h>

#include "zdtmtst.h"
#include "ns_join.h"

const char *test_doc = "Restored with --join-ns time:FILE into a time namespace the harness made with its "
		       "monotonic and boottime clocks 1000 days ahead: after C/R the test is in it and both clocks "
		       "jumped (by 1000 days less what its own namespace had: 10 and 20 days in flavor ns)";
const char *test_author = "Stasis developers";

#define DAY 86400LL

static long long secs(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec;
}

int main(int argc, char **argv)
{
	long long mono, boot, dmono, dboot;
	ino_t ino;
	int where;

	test_init(argc, argv);

	if (ns_ino("time", &ino))
		return 1;
	mono = secs(CLOCK_MONOTONIC);
	boot = secs(CLOCK_BOOTTIME);

	test_daemon();
	test_waitsig();

	where = where_now("time", ino);
	if (where < 0)
		return 1;
	dmono = secs(CLOCK_MONOTONIC) - mono;
	dboot = secs(CLOCK_BOOTTIME) - boot;
	if (where && (dmono < 900 * DAY || dboot < 900 * DAY || dmono > 1001 * DAY || dboot > 1001 * DAY)) {
		errno = 0;
		fail("in the joined time namespace the clocks moved by %lld s (monotonic) and %lld s (boottime), "
		     "not about 1000 days", dmono, dboot);
		return 1;
	}
	if (!where && (dmono < 0 || dboot < 0 || dmono > DAY || dboot > DAY)) {
		errno = 0;
		fail("the clocks moved by %lld s and %lld s", dmono, dboot);
		return 1;
	}
	pass();
	return 0;
}
