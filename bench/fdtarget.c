/*
 * Benchmark target for bench/fds.py: one process holding N file descriptors of mixed kinds (N a multiple
 * of 20, default 1000), made in units of 20 fds, in its work dir (the cwd):
 *   4 regular files (each its own file, offset k), 2 pipes (4 fds, k % 100 + 1 bytes in each),
 *   3 eventfds (counters k + 1, k + 2, k + 3; the third EFD_SEMAPHORE), 2 timerfds (CLOCK_MONOTONIC and
 *   CLOCK_BOOTTIME, interval k + 100 s), 1 signalfd (SIGUSR2 and SIGRTMIN + k % 8), 1 epoll with 5
 *   registrations (the unit's eventfds and pipe read ends), 1 inotify with 2 watches (the work dir and
 *   the unit's first file; made after every unit, so that no event is queued), 2 memfds (size
 *   4096 * (k % 4 + 1), the last byte k), 1 FIFO (both ends, k % 50 + 1 bytes in flight).
 * It prints "ready N" and waits in sigsuspend. On SIGUSR1 it checks every fd (kind-specific state:
 * counters, bytes queued, intervals, sizes, offsets, epoll readiness, the number of open fds) and prints
 * "verify ok N" or "verify BAD <what>". SIGTERM ends it.
 *
 * Build: gcc -O2 -o fdtarget fdtarget.c
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define UNIT 20

struct unit {
	int file[4], pipe[2][2], efd[3], tfd[2], sfd, ep, ino, mfd[2], fifo[2];
};

static volatile sig_atomic_t want_check;

static void on_usr1(int sig) { (void)sig; want_check = 1; }

static void say(const char *line)
{
	size_t len = strlen(line), off = 0;
	while (off < len) {
		ssize_t n = write(1, line + off, len - off);
		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

static void die(const char *what, int k)
{
	char line[128];
	snprintf(line, sizeof(line), "setup failed: %s (unit %d): %s\n", what, k, strerror(errno));
	say(line);
	exit(1);
}

static int fill(int fd, int n, char c)
{
	char buf[128];
	memset(buf, c, sizeof(buf));
	return write(fd, buf, n) == n ? 0 : -1;
}

static void make(struct unit *u, int k)
{
	char name[64], byte = (char)k;
	struct itimerspec its = { 0 };
	struct epoll_event ev;
	sigset_t mask;
	int i;

	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "f-%d-%d", k, i);
		u->file[i] = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (u->file[i] < 0 || fill(u->file[i], k % 100 + 1, 'f') || lseek(u->file[i], k, SEEK_SET) != k)
			die("file", k);
	}
	for (i = 0; i < 2; i++)
		if (pipe(u->pipe[i]) || fill(u->pipe[i][1], k % 100 + 1, 'p'))
			die("pipe", k);
	for (i = 0; i < 3; i++) {
		u->efd[i] = eventfd(k + 1 + i, i == 2 ? EFD_SEMAPHORE : 0);
		if (u->efd[i] < 0)
			die("eventfd", k);
	}
	its.it_interval.tv_sec = its.it_value.tv_sec = k + 100;
	u->tfd[0] = timerfd_create(CLOCK_MONOTONIC, 0);
	u->tfd[1] = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK);
	for (i = 0; i < 2; i++)
		if (u->tfd[i] < 0 || timerfd_settime(u->tfd[i], 0, &its, NULL))
			die("timerfd", k);
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGRTMIN + k % 8);
	u->sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (u->sfd < 0)
		die("signalfd", k);
	u->ep = epoll_create1(0);
	if (u->ep < 0)
		die("epoll_create1", k);
	for (i = 0; i < 5; i++) {
		int tfd = i < 3 ? u->efd[i] : u->pipe[i - 3][0];
		ev.events = EPOLLIN;
		ev.data.u64 = ((uint64_t)k << 8) | (uint64_t)i;
		if (epoll_ctl(u->ep, EPOLL_CTL_ADD, tfd, &ev))
			die("epoll_ctl", k);
	}
	for (i = 0; i < 2; i++) {
		off_t size = 4096 * (k % 4 + 1);
		snprintf(name, sizeof(name), "m-%d-%d", k, i);
		u->mfd[i] = memfd_create(name, i ? MFD_CLOEXEC : 0);
		if (u->mfd[i] < 0 || ftruncate(u->mfd[i], size) || pwrite(u->mfd[i], &byte, 1, size - 1) != 1)
			die("memfd", k);
	}
	snprintf(name, sizeof(name), "fifo-%d", k);
	if (mkfifo(name, 0600))
		die("mkfifo", k);
	u->fifo[0] = open(name, O_RDONLY | O_NONBLOCK);
	u->fifo[1] = open(name, O_WRONLY);
	if (u->fifo[0] < 0 || u->fifo[1] < 0 || fill(u->fifo[1], k % 50 + 1, 'q'))
		die("fifo", k);
}

/* after every unit is made: no event queued (the engine refuses queued inotify events) */
static void watch(struct unit *u, int k)
{
	char name[64];

	u->ino = inotify_init1(IN_NONBLOCK);
	snprintf(name, sizeof(name), "f-%d-0", k);
	if (u->ino < 0 || inotify_add_watch(u->ino, ".", IN_CREATE | IN_DELETE) < 0 ||
	    inotify_add_watch(u->ino, name, IN_MODIFY) < 0)
		die("inotify", k);
}

static int queued(int fd)
{
	int n = -1;
	return ioctl(fd, FIONREAD, &n) ? -1 : n;
}

/* NULL if unit k is as made, else what differs */
static const char *check(const struct unit *u, int k)
{
	struct epoll_event evs[8];
	struct itimerspec its;
	struct stat st;
	uint64_t v;
	char byte;
	int i;

	for (i = 0; i < 4; i++)
		if (lseek(u->file[i], 0, SEEK_CUR) != k)
			return "file offset";
	for (i = 0; i < 2; i++)
		if (queued(u->pipe[i][0]) != k % 100 + 1)
			return "pipe bytes";
	if (queued(u->fifo[0]) != k % 50 + 1)
		return "fifo bytes";
	if (queued(u->ino) != 0)
		return "inotify events";
	if (epoll_wait(u->ep, evs, 8, 0) != 5)
		return "epoll readiness";
	for (i = 0; i < 2; i++)
		if (timerfd_gettime(u->tfd[i], &its) || its.it_interval.tv_sec != k + 100 || its.it_value.tv_sec > k + 100 ||
		    (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0))
			return "timerfd";
	for (i = 0; i < 2; i++) {
		off_t size = 4096 * (k % 4 + 1);
		if (fstat(u->mfd[i], &st) || st.st_size != size || pread(u->mfd[i], &byte, 1, size - 1) != 1 ||
		    byte != (char)k)
			return "memfd";
	}
	for (i = 0; i < 3; i++)
		if (read(u->efd[i], &v, sizeof(v)) != sizeof(v) || v != (i == 2 ? 1u : (uint64_t)(k + 1 + i)) ||
		    write(u->efd[i], &v, sizeof(v)) != sizeof(v)) /* put it back */
			return "eventfd counter";
	return NULL;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the dir's own fd */
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000, units = n / UNIT, k, base;
	struct unit *u = calloc(units ? units : 1, sizeof(*u));
	struct sigaction sa;
	struct rlimit rl;
	sigset_t block, old;
	char line[128];

	if (n <= 0 || n % UNIT || !u) {
		say("usage: fdtarget N (a positive multiple of 20)\n");
		return 1;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	for (k = 0; k < 8; k++)
		sigaddset(&block, SIGRTMIN + k);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigdelset(&old, SIGUSR1);

	base = count_fds();
	for (k = 0; k < units; k++)
		make(&u[k], k);
	for (k = 0; k < units; k++)
		watch(&u[k], k);
	snprintf(line, sizeof(line), "ready %d\n", count_fds() - base);
	say(line);
	for (;;) {
		const char *bad = NULL;

		while (!want_check)
			sigsuspend(&old);
		want_check = 0;
		if (count_fds() - base != n)
			bad = "number of fds";
		for (k = 0; k < units && !bad; k++)
			bad = check(&u[k], k);
		if (bad)
			snprintf(line, sizeof(line), "verify BAD %s (unit %d)\n", bad, k - 1);
		else
			snprintf(line, sizeof(line), "verify ok %d\n", n);
		say(line);
	}
}
