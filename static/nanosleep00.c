#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "Long relative and absolute clock_nanosleep calls, interrupted by C/R, are restarted "
		       "correctly: each one lasts at least as long as requested";
const char *test_author = "Stasis developers";

#define SLEEP_NS 700000000LL /* each sleep: 0.7 s */

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct timespec to_ts(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL };

	return ts;
}

int main(int argc, char **argv)
{
	unsigned long done_rel = 0, done_abs = 0, interrupted = 0;
	int64_t start, elapsed, deadline;
	struct timespec req, rem;
	int ret, absolute = 0;

	test_init(argc, argv);
	test_daemon();

	while (test_go()) {
		start = mono_ns();
		if (absolute) {
			/* Absolute deadline: never wake up early, however often we are interrupted. */
			deadline = start + SLEEP_NS;
			req = to_ts(deadline);
			while ((ret = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &req, NULL)) == EINTR && test_go())
				interrupted++;
			if (ret == EINTR)
				break; /* SIGTERM */
			if (ret) {
				errno = ret;
				fail("absolute clock_nanosleep");
				return 1;
			}
			if (mono_ns() < deadline) {
				fail("absolute sleep returned %lld ns before its deadline", (long long)(deadline - mono_ns()));
				return 1;
			}
			done_abs++;
		} else {
			req = to_ts(SLEEP_NS);
			while ((ret = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem)) == EINTR && test_go()) {
				if (rem.tv_sec > req.tv_sec || (rem.tv_sec == req.tv_sec && rem.tv_nsec > req.tv_nsec)) {
					fail("remaining time %ld.%09ld is more than requested %ld.%09ld", rem.tv_sec,
					     rem.tv_nsec, req.tv_sec, req.tv_nsec);
					return 1;
				}
				interrupted++;
				req = rem;
			}
			if (ret == EINTR)
				break;
			if (ret) {
				errno = ret;
				fail("relative clock_nanosleep");
				return 1;
			}
			elapsed = mono_ns() - start;
			if (elapsed < SLEEP_NS) {
				fail("a %lld ns sleep took only %lld ns", SLEEP_NS, (long long)elapsed);
				return 1;
			}
			done_rel++;
		}
		absolute = !absolute;
	}

	test_waitsig();
	test_msg("%lu relative and %lu absolute sleeps completed, %lu interruptions\n", done_rel, done_abs,
		 interrupted);
	pass();
	return 0;
}
