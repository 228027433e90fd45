#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "zdtmtst.h"

const char *test_doc = "Many event fds at once: 300 eventfds with distinct counters (every third in semaphore "
		       "mode, every fifth non-blocking), 100 timerfds armed for 1000 + i s, 20 signalfds with "
		       "distinct masks: after C/R every counter, mode, flag, time left and mask is its own";
const char *test_author = "Stasis developers";

#define NEFD 300
#define NTFD 100
#define NSFD 20

static int efd[NEFD], tfd[NTFD], sfd[NSFD];

static unsigned long long mask_of(int fd)
{
	char path[64], line[128];
	unsigned long long m = 0;
	FILE *f;

	ssprintf(path, "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		sscanf(line, "sigmask: %llx", &m);
	fclose(f);
	return m;
}

int main(int argc, char **argv)
{
	struct itimerspec its = {}, cur;
	sigset_t set;
	eventfd_t v;
	long long left;
	int i, fl;

	test_init(argc, argv);

	for (i = 0; i < NEFD; i++) {
		efd[i] = eventfd(i * 7 + 2, (i % 3 == 0 ? EFD_SEMAPHORE : 0) | (i % 5 == 0 ? EFD_NONBLOCK : 0));
		if (efd[i] < 0)
			return pr_perror("eventfd %d", i);
	}
	for (i = 0; i < NTFD; i++) {
		tfd[i] = timerfd_create(i % 2 ? CLOCK_MONOTONIC : CLOCK_BOOTTIME, 0);
		its.it_value.tv_sec = 1000 + i;
		if (tfd[i] < 0 || timerfd_settime(tfd[i], 0, &its, NULL))
			return pr_perror("timerfd %d", i);
	}
	for (i = 0; i < NSFD; i++) {
		sigemptyset(&set);
		sigaddset(&set, SIGRTMIN + i % 10);
		sigaddset(&set, i % 2 ? SIGUSR1 : SIGUSR2);
		sfd[i] = signalfd(-1, &set, i % 2 ? SFD_NONBLOCK : 0);
		if (sfd[i] < 0)
			return pr_perror("signalfd %d", i);
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < NEFD; i++) {
		fl = fcntl(efd[i], F_GETFL);
		if (!!(fl & O_NONBLOCK) != (i % 5 == 0)) {
			fail("eventfd %d: F_GETFL %#x after C/R", i, fl);
			return 1;
		}
		if (eventfd_read(efd[i], &v) || v != (i % 3 == 0 ? 1 : (eventfd_t)(i * 7 + 2))) {
			fail("eventfd %d reads %llu after C/R", i, (unsigned long long)v);
			return 1;
		}
		if (i % 3 == 0 && (fcntl(efd[i], F_SETFL, O_NONBLOCK) ||
				   eventfd_read(efd[i], &v) || v != 1)) {
			fail("semaphore eventfd %d: the second read gives %llu after C/R", i, (unsigned long long)v);
			return 1;
		}
	}
	for (i = 0; i < NTFD; i++) {
		if (timerfd_gettime(tfd[i], &cur))
			return pr_perror("timerfd_gettime");
		left = cur.it_value.tv_sec;
		if (left > 1000 + i || left < 1000 + i - 60) {
			fail("timerfd %d has %lld s left after C/R, expected about %d", i, left, 1000 + i);
			return 1;
		}
	}
	for (i = 0; i < NSFD; i++) {
		unsigned long long want = (1ULL << (SIGRTMIN + i % 10 - 1)) | (1ULL << ((i % 2 ? SIGUSR1 : SIGUSR2) - 1));

		if (mask_of(sfd[i]) != want || !!(fcntl(sfd[i], F_GETFL) & O_NONBLOCK) != i % 2) {
			fail("signalfd %d: mask %#llx (expected %#llx), F_GETFL %#x after C/R", i, mask_of(sfd[i]), want,
			     fcntl(sfd[i], F_GETFL));
			return 1;
		}
	}
	pass();
	return 0;
}
