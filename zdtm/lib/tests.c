/* Small helpers shared by many tests: task_waiter barriers, proc/sys values, pidfiles. */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "zdtmtst.h"
#include "internal.h"

/* Upper bound for the back-off step (ns) when a waiter reads a value meant for another. */
#define TASK_WAITER_INITIAL 0x0fffff

/*
 * A task_waiter is a pipe shared by related processes.  complete() writes a 32-bit
 * lock id; wait4() reads ids until it gets its own, putting foreign ones back.
 * Being a pipe, it survives C/R like any other fd pair of the test.
 */
void task_waiter_init(task_waiter_t *t)
{
	datagen((void *)&t->seq, sizeof(t->seq), NULL);
	t->seq %= TASK_WAITER_INITIAL;

	if (pipe(t->pipes)) {
		pr_perror("task_waiter_init failed");
		exit(1);
	}
}

void task_waiter_fini(task_waiter_t *t)
{
	close(t->pipes[0]);
	close(t->pipes[1]);
}

void task_waiter_wait4(task_waiter_t *t, unsigned int lockid)
{
	struct timespec req = { .tv_nsec = TASK_WAITER_INITIAL };
	unsigned int v;

	while (1) {
		if (read(t->pipes[0], &v, sizeof(v)) != sizeof(v)) {
			if (errno == EINTR)
				continue;
			goto err;
		}
		if (v == lockid)
			return;

		/* Not ours: give it back and back off a growing, per-waiter amount. */
		if (write(t->pipes[1], &v, sizeof(v)) != sizeof(v))
			goto err;
		nanosleep(&req, NULL);
		req.tv_nsec += t->seq;
		if (req.tv_nsec >= 1000000000L)
			req.tv_nsec = TASK_WAITER_INITIAL;
	}
err:
	pr_perror("task_waiter_wait4 failed");
	exit(errno ? errno : 1);
}

void task_waiter_complete(task_waiter_t *t, unsigned int lockid)
{
	if (write(t->pipes[1], &lockid, sizeof(lockid)) != sizeof(lockid)) {
		pr_perror("task_waiter_complete failed");
		exit(1);
	}
}

void task_waiter_complete_current(task_waiter_t *t)
{
	task_waiter_complete(t, (unsigned int)syscall(SYS_gettid));
}

/* Read a small text file (e.g. under /proc/sys) into @buf, NUL-terminated. */
int read_value(const char *name, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if (!len)
		return -1;
	fd = open(name, O_RDONLY);
	if (fd < 0) {
		pr_perror("Can't open %s", name);
		return -1;
	}
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0) {
		pr_perror("Can't read %s", name);
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

int write_value(const char *name, const char *val)
{
	size_t len = strlen(val);
	int fd;

	fd = open(name, O_WRONLY);
	if (fd < 0) {
		pr_perror("Can't open %s", name);
		return -1;
	}
	if (write(fd, val, len) != (ssize_t)len) {
		pr_perror("Can't write %s to %s", val, name);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * Publish @pid in the file named by --pidfile (or what ns.c set it to) atomically:
 * the harness polls for the file and must never see it empty or half-written.
 * The temp file lives next to the pidfile so that rename() stays in one fs.
 */
int write_pidfile(int pid)
{
	char tmp[PATH_MAX], dir[PATH_MAX], *slash;
	int fd;

	/* not dirname(3): upstream's test programs define a global `dirname` option of their own */
	snprintf(dir, sizeof(dir), "%s", pidfile);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = 0;
	else
		*slash = 0;
	if (snprintf(tmp, sizeof(tmp), "%s/.zdtm.pidfile.XXXXXX", dir) >= (int)sizeof(tmp)) {
		fprintf(stderr, "pidfile path too long: %s\n", pidfile);
		return -1;
	}

	fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(stderr, "Can't create the file %s: %m\n", tmp);
		return -1;
	}
	/* 0666: the harness (or an unprivileged engine) may have to remove or rewrite it */
	if (fchmod(fd, 0666) || dprintf(fd, "%d", pid) < 0) {
		fprintf(stderr, "Can't write %s: %m\n", tmp);
		goto err;
	}
	if (close(fd)) {
		fd = -1;
		fprintf(stderr, "Can't close %s: %m\n", tmp);
		goto err;
	}
	fd = -1;
	if (rename(tmp, pidfile)) {
		fprintf(stderr, "Can't rename %s to %s: %m\n", tmp, pidfile);
		goto err;
	}
	return 0;
err:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}
