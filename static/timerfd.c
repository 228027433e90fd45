#include <fcntl.h>
#include <poll.h>
#include <sys/timerfd.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "timerfds over C/R: a periodic CLOCK_MONOTONIC one with expirations not yet read, a "
		       "one-shot CLOCK_REALTIME one far away, a disarmed non-blocking one: intervals, remaining "
		       "times, the expirations (at least those before C/R) and O_NONBLOCK after it";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	struct itimerspec per = { { 0, 10000000 }, { 0, 10000000 } }, far = { { 0, 0 }, { 3600, 0 } }, got;
	struct pollfd pfd;
	int tper, tfar, toff;
	uint64_t n;

	test_init(argc, argv);

	tper = timerfd_create(CLOCK_MONOTONIC, 0);
	tfar = timerfd_create(CLOCK_REALTIME, 0);
	toff = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	if (tper < 0 || tfar < 0 || toff < 0 || timerfd_settime(tper, 0, &per, NULL) ||
	    timerfd_settime(tfar, 0, &far, NULL)) {
		pr_perror("timerfd");
		return 1;
	}
	usleep(60000); /* at least 5 expirations of the periodic one, left unread */

	test_daemon();
	test_waitsig();

	if (timerfd_gettime(tper, &got) || got.it_interval.tv_sec || got.it_interval.tv_nsec != 10000000 ||
	    got.it_value.tv_sec || got.it_value.tv_nsec > 10000000) {
		fail("periodic: interval %ld.%09ld value %ld.%09ld", (long)got.it_interval.tv_sec,
		     got.it_interval.tv_nsec, (long)got.it_value.tv_sec, got.it_value.tv_nsec);
		return 1;
	}
	if (read(tper, &n, sizeof(n)) != sizeof(n) || n < 5) {
		fail("periodic: %llu expirations after C/R, at least 5 were due before", (unsigned long long)n);
		return 1;
	}
	if (timerfd_gettime(tfar, &got) || got.it_interval.tv_sec || got.it_interval.tv_nsec ||
	    got.it_value.tv_sec > 3600 || got.it_value.tv_sec < 3500) {
		fail("one-shot: interval %ld value %ld s", (long)got.it_interval.tv_sec, (long)got.it_value.tv_sec);
		return 1;
	}
	pfd.fd = tfar;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) != 0) {
		fail("the one-shot timer is readable");
		return 1;
	}
	if (timerfd_gettime(toff, &got) || got.it_value.tv_sec || got.it_value.tv_nsec || got.it_interval.tv_sec ||
	    got.it_interval.tv_nsec) {
		fail("the disarmed timer is armed after C/R");
		return 1;
	}
	if (!(fcntl(toff, F_GETFL) & O_NONBLOCK) || (fcntl(tper, F_GETFL) & O_NONBLOCK)) {
		fail("O_NONBLOCK changed");
		return 1;
	}
	errno = 0;
	if (read(toff, &n, sizeof(n)) != -1 || errno != EAGAIN) {
		fail("the disarmed non-blocking timerfd reads");
		return 1;
	}
	pass();
	return 0;
}
