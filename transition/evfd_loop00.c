#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "Keeps using an eventfd (writes of 1..n then a read that must give their sum; a semaphore "
		       "eventfd fed and drained one by one) and a 1 ms interval timerfd (expirations read without "
		       "blocking) while being dumped: every step checks its invariant, and the timer's total "
		       "expirations keep pace with the monotonic clock";
const char *test_author = "Stasis developers";

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	struct itimerspec its = { .it_value = { 0, 1000000 }, .it_interval = { 0, 1000000 } };
	unsigned long long steps = 0, total = 0, i, n;
	int efd, sem, tfd;
	long long start;
	eventfd_t v;
	uint64_t t;

	test_init(argc, argv);

	efd = eventfd(0, EFD_NONBLOCK);
	sem = eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	if (efd < 0 || sem < 0 || tfd < 0)
		return pr_perror("eventfd/timerfd_create");
	start = now_ns();
	if (timerfd_settime(tfd, 0, &its, NULL))
		return pr_perror("timerfd_settime");

	test_daemon();

	while (test_go()) {
		n = steps % 17 + 1;
		for (i = 1; i <= n; i++)
			if (eventfd_write(efd, i) || eventfd_write(sem, 1)) {
				fail("eventfd_write at step %llu", steps);
				return 1;
			}
		if (eventfd_read(efd, &v) || v != n * (n + 1) / 2) {
			fail("step %llu: eventfd reads %llu, expected %llu", steps, (unsigned long long)v, n * (n + 1) / 2);
			return 1;
		}
		for (i = 0; i < n; i++)
			if (eventfd_read(sem, &v) || v != 1) {
				fail("step %llu: semaphore read %llu gives %llu", steps, i, (unsigned long long)v);
				return 1;
			}
		if (eventfd_read(sem, &v) != -1 || errno != EAGAIN || eventfd_read(efd, &v) != -1 || errno != EAGAIN) {
			fail("step %llu: an eventfd is not empty after its reads", steps);
			return 1;
		}
		if (read(tfd, &t, sizeof(t)) == sizeof(t)) {
			total += t;
		} else if (errno != EAGAIN) {
			fail("step %llu: read of the timerfd", steps);
			return 1;
		}
		steps++;
	}
	usleep(5000);
	if (read(tfd, &t, sizeof(t)) == sizeof(t))
		total += t;
	/* a relative timer keeps its time left across C/R: expirations lag the clock by the C/R at most */
	test_msg("%llu steps, %llu timer expirations in %lld ms\n", steps, total, (now_ns() - start) / 1000000);
	if (steps == 0 || total == 0 || (long long)total > (now_ns() - start) / 1000000 + 1) {
		fail("%llu expirations of a 1 ms timer in %lld ms", total, (now_ns() - start) / 1000000);
		return 1;
	}
	pass();
	return 0;
}
