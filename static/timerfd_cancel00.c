#include <fcntl.h>
#include <sys/timerfd.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "A CLOCK_REALTIME timerfd with TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET that expired "
		       "and was not read: its tick could as well be a cancellation by a clock change (read: "
		       "ECANCELED), which cannot be told apart nor restored, so the dump must refuse it and leave "
		       "it as it was: one expiration to read, then EAGAIN";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	struct itimerspec its = {};
	uint64_t v = 0;
	int fd;

	test_init(argc, argv);

	fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	if (fd < 0)
		return pr_perror("timerfd_create");
	clock_gettime(CLOCK_REALTIME, &its.it_value);
	its.it_value.tv_nsec = 0;
	if (timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL))
		return pr_perror("timerfd_settime");
	usleep(10000);

	test_daemon();
	test_waitsig();

	if (read(fd, &v, sizeof(v)) != sizeof(v) || v != 1) {
		fail("the expired cancel-on-set timer reads %llu after the refused dump, expected 1",
		     (unsigned long long)v);
		return 1;
	}
	if (read(fd, &v, sizeof(v)) != -1 || errno != EAGAIN) {
		fail("a second read did not fail with EAGAIN");
		return 1;
	}
	pass();
	return 0;
}
