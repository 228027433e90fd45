#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "The clocks a program reads keep going forward over C/R: CLOCK_MONOTONIC, CLOCK_BOOTTIME "
		       "and CLOCK_MONOTONIC_COARSE read in a loop until SIGTERM never go back, nor do they "
		       "jump ahead more than wall time did";
const char *test_author = "Stasis developers";

static const clockid_t clocks[] = { CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_MONOTONIC_COARSE };

static int64_t ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	int64_t last[ARRAY_SIZE(clocks)], start[ARRAY_SIZE(clocks)], now, wall0, wall;
	unsigned i;

	test_init(argc, argv);

	for (i = 0; i < ARRAY_SIZE(clocks); i++)
		start[i] = last[i] = ns(clocks[i]);
	wall0 = ns(CLOCK_REALTIME);

	test_daemon();
	while (test_go()) {
		for (i = 0; i < ARRAY_SIZE(clocks); i++) {
			now = ns(clocks[i]);
			if (now < last[i]) {
				fail("clock %d went back by %lld ns", clocks[i], (long long)(last[i] - now));
				return 1;
			}
			last[i] = now;
		}
		usleep(1000);
	}
	test_waitsig();

	wall = ns(CLOCK_REALTIME) - wall0;
	for (i = 0; i < ARRAY_SIZE(clocks); i++) {
		now = ns(clocks[i]);
		if (now < last[i] || now - start[i] > wall + 1000000000LL) {
			fail("clock %d: %lld ns since the start, wall time %lld ns", clocks[i], (long long)(now - start[i]),
			     (long long)wall);
			return 1;
		}
	}
	pass();
	return 0;
}
