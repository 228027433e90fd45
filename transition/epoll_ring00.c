#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A ring of processes passing a counter through non-blocking pipes, each waiting in "
		       "epoll_wait (edge-triggered in odd members, level-triggered in even ones, with an idle pipe "
		       "registered that must never fire) while being dumped: every hop checks that the counter "
		       "advanced by exactly one lap, so no wakeup or data is lost or duplicated";
const char *test_author = "Stasis developers";

#define NR_PROCS 3
#define STOP 0xffffffffffffffffULL
#define RING_COOKIE 0x7269e6ULL
#define IDLE_COOKIE 0x1d1eULL
#define STALL_MS 10000

static int ring[NR_PROCS][2]; /* process i reads ring[i][0] and writes ring[(i + 1) % N][1] */
static int idle[2];

static int wr(int fd, uint64_t v)
{
	ssize_t n;

	do
		n = write(fd, &v, sizeof(v));
	while (n < 0 && errno == EINTR);
	return n == sizeof(v) ? 0 : -1;
}

/*
 * The next counter that arrives at @me through its epoll: 0 and the value in @v, 1 on a stall, a wrong
 * event or a short read (the reason in @why).
 */
static int next(int me, int ep, int et, uint64_t *v, char *why, size_t len)
{
	static uint64_t queued[16];
	static int nq, taken;
	struct epoll_event ev[4];
	int n, i, waited = 0;
	ssize_t r;

	while (taken == nq) {
		taken = nq = 0;
		n = epoll_wait(ep, ev, 4, 100);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, len, "process %d: epoll_wait: %m", me);
			return 1;
		}
		if (n == 0) {
			waited += 100;
			if (waited >= STALL_MS) {
				snprintf(why, len, "process %d: no wakeup for %d ms", me, waited);
				return 1;
			}
			continue;
		}
		for (i = 0; i < n; i++)
			/* EPOLLHUP: the writer exited after passing STOP on */
			if (ev[i].data.u64 != RING_COOKIE || !(ev[i].events & EPOLLIN) ||
			    (ev[i].events & ~(EPOLLIN | EPOLLHUP))) {
				snprintf(why, len, "process %d: event %#x with data %#llx", me, ev[i].events,
					 (unsigned long long)ev[i].data.u64);
				return 1;
			}
		/* edge-triggered: read until EAGAIN; level-triggered: one read is enough */
		do {
			r = read(ring[me][0], &queued[nq], sizeof(queued) - nq * sizeof(queued[0]));
			if (r < 0 && errno == EINTR)
				continue;
			if ((r < 0 && errno == EAGAIN) || (r == 0 && nq > 0))
				break;
			if (r <= 0 || r % sizeof(uint64_t)) {
				snprintf(why, len, "process %d: read %zd from the ring", me, r);
				return 1;
			}
			nq += r / sizeof(uint64_t);
		} while (et && nq < 16);
		if (et && nq == 0) {
			snprintf(why, len, "process %d: an edge with nothing to read", me);
			return 1;
		}
	}
	*v = queued[taken++];
	return 0;
}

static int setup(int me, int *et)
{
	struct epoll_event ev;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	*et = me & 1;
	if (ep < 0 || fcntl(ring[me][0], F_SETFL, O_NONBLOCK))
		return -1;
	ev.events = EPOLLIN | (*et ? EPOLLET : 0);
	ev.data.u64 = RING_COOKIE;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ring[me][0], &ev))
		return -1;
	ev.events = EPOLLIN;
	ev.data.u64 = IDLE_COOKIE;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, idle[0], &ev))
		return -1;
	return ep;
}

static void member(int me)
{
	uint64_t v, last = STOP;
	char why[200];
	int i, ep, et;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	for (i = 0; i < NR_PROCS; i++) {
		if (i != me)
			close(ring[i][0]);
		if (i != (me + 1) % NR_PROCS)
			close(ring[i][1]);
	}
	ep = setup(me, &et);
	if (ep < 0) {
		test_msg("process %d: epoll setup: %m\n", me);
		_exit(2);
	}
	while (1) {
		if (next(me, ep, et, &v, why, sizeof(why))) {
			test_msg("%s\n", why);
			_exit(3);
		}
		if (v == STOP) {
			wr(ring[(me + 1) % NR_PROCS][1], v);
			_exit(0);
		}
		if ((last != STOP && v != last + NR_PROCS) || (last == STOP && v != (uint64_t)me - 1)) {
			test_msg("process %d: counter %llu after %llu\n", me, (unsigned long long)v,
				 (unsigned long long)last);
			_exit(4);
		}
		last = v;
		if (wr(ring[(me + 1) % NR_PROCS][1], v + 1)) {
			test_msg("process %d: write to the ring: %m\n", me);
			_exit(5);
		}
	}
}

int main(int argc, char **argv)
{
	uint64_t v, last = STOP, laps = 0;
	pid_t kids[NR_PROCS] = {};
	int i, ep, et, status, failed = 0;
	char why[200];

	test_init(argc, argv);

	if (pipe(idle))
		return pr_perror("pipe");
	for (i = 0; i < NR_PROCS; i++)
		if (pipe(ring[i]))
			return pr_perror("pipe");
	for (i = 1; i < NR_PROCS; i++) {
		kids[i] = fork();
		if (kids[i] < 0) {
			pr_perror("fork");
			goto err;
		}
		if (kids[i] == 0)
			member(i);
	}
	for (i = 0; i < NR_PROCS; i++) {
		if (i != 0)
			close(ring[i][0]);
		if (i != 1)
			close(ring[i][1]);
	}
	ep = setup(0, &et);
	if (ep < 0) {
		pr_perror("epoll setup");
		goto err;
	}
	if (wr(ring[1][1], 0)) {
		pr_perror("inject");
		goto err;
	}

	test_daemon();

	while (1) {
		if (next(0, ep, et, &v, why, sizeof(why))) {
			fail("%s", why);
			goto err;
		}
		if (v == STOP)
			break;
		if (last != STOP ? v != last + NR_PROCS : v != NR_PROCS - 1) {
			fail("process 0: counter %llu after %llu", (unsigned long long)v, (unsigned long long)last);
			goto err;
		}
		last = v;
		laps++;
		if (wr(ring[1][1], test_go() ? v + 1 : STOP)) {
			fail("process 0: write to the ring");
			goto err;
		}
	}
	for (i = 1; i < NR_PROCS; i++) {
		if (waitpid(kids[i], &status, 0) != kids[i] || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fail("ring process %d (pid %d): status %#x", i, kids[i], status);
			failed = 1;
		}
		kids[i] = 0;
	}
	if (failed)
		return 1;
	test_msg("%llu laps\n", (unsigned long long)laps);
	if (laps < 2) {
		fail("the ring did not run");
		return 1;
	}
	pass();
	return 0;
err:
	for (i = 1; i < NR_PROCS; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
	return 1;
}
