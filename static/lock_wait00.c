#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "Processes of the tree blocked on locks held by the test: one child in F_SETLKW on the "
		       "test's POSIX write lock, another in flock(LOCK_EX) on the test's LOCK_EX. After C/R both "
		       "still wait (their syscalls restarted); each gets its lock exactly when the test releases it";
const char *test_author = "Stasis developers";

static char *filename;
TEST_OPTION(filename, string, "base name of the test files", 1);

static char path_p[PATH_MAX], path_f[PATH_MAX];

static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	return fcntl(fd, cmd, &fl);
}

/* The waiters: block on the lock, say which one they got, hold it until the pipe closes */
static int waiter(int posix, int ack, int end)
{
	char c;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	fd = open(posix ? path_p : path_f, O_RDWR);
	if (fd < 0)
		return 1;
	if (posix ? setlk(fd, F_SETLKW, F_WRLCK, 10, 20) : flock(fd, LOCK_EX))
		return 2;
	if (write(ack, posix ? "p" : "f", 1) != 1)
		return 3;
	if (read(end, &c, 1) != 0)
		return 4;
	return 0;
}

/* /proc/locks shows pid waiting ("-> KIND ... pid ...") */
static int waiting(pid_t pid, const char *kind)
{
	char line[256], want[64];
	FILE *f = fopen("/proc/locks", "r");
	int found = 0;

	if (!f)
		return -1;
	snprintf(want, sizeof(want), " %d ", pid);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "-> ") && strstr(line, kind) && strstr(line, want))
			found = 1;
	fclose(f);
	return found;
}

static int wait_waiting(pid_t pid, const char *kind)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (waiting(pid, kind) == 1)
			return 0;
		usleep(10000);
	}
	return -1;
}

/* nothing from the waiters for 200 ms */
static int quiet(int ack)
{
	struct pollfd p = { .fd = ack, .events = POLLIN };

	return poll(&p, 1, 200) == 0;
}

static int got(int ack, char want)
{
	struct pollfd p = { .fd = ack, .events = POLLIN };
	char c;

	if (poll(&p, 1, 5000) != 1 || read(ack, &c, 1) != 1)
		return 0;
	return c == want;
}

int main(int argc, char **argv)
{
	int fd_p = -1, fd_f = -1, ack[2], end[2], status, i, ret = 1;
	pid_t kids[2] = {};
	struct flock fl;

	test_init(argc, argv);

	ssprintf(path_p, "%s.posix", filename);
	ssprintf(path_f, "%s.flock", filename);
	fd_p = open(path_p, O_CREAT | O_EXCL | O_RDWR, 0644);
	fd_f = open(path_f, O_CREAT | O_EXCL | O_RDWR, 0644);
	if (fd_p < 0 || fd_f < 0 || pipe(ack) || pipe(end)) {
		pr_perror("create the test files and pipes");
		goto out;
	}
	if (setlk(fd_p, F_SETLK, F_WRLCK, 0, 100) || flock(fd_f, LOCK_EX | LOCK_NB)) {
		pr_perror("lock");
		goto out;
	}
	for (i = 0; i < 2; i++) {
		kids[i] = fork();
		if (kids[i] < 0) {
			pr_perror("fork");
			goto kill;
		}
		if (kids[i] == 0) {
			close(ack[0]);
			close(end[1]);
			_exit(waiter(i == 0, ack[1], end[0]));
		}
	}
	close(ack[1]);
	close(end[0]);
	if (wait_waiting(kids[0], "POSIX") || wait_waiting(kids[1], "FLOCK")) {
		pr_err("the children do not wait on the locks\n");
		goto kill;
	}

	test_daemon();
	test_waitsig();

	if (!quiet(ack[0])) {
		fail("a waiter got its lock while the test still holds it");
		goto kill;
	}
	if (wait_waiting(kids[0], "POSIX") || wait_waiting(kids[1], "FLOCK")) {
		fail("after C/R the children do not wait on the locks");
		goto kill;
	}
	if (setlk(fd_p, F_SETLK, F_UNLCK, 0, 0)) {
		fail("F_UNLCK");
		goto kill;
	}
	if (!got(ack[0], 'p')) {
		fail("the F_SETLKW waiter did not get the lock once the test released it");
		goto kill;
	}
	fl = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
	if (fcntl(fd_p, F_GETLK, &fl) || fl.l_type != F_WRLCK || fl.l_pid != kids[0] || fl.l_start != 10 ||
	    fl.l_len != 20) {
		fail("the waiter's lock: type %d pid %d [%lld, +%lld)", fl.l_type, fl.l_pid,
		     (long long)fl.l_start, (long long)fl.l_len);
		goto kill;
	}
	if (!quiet(ack[0])) {
		fail("the flock waiter got its lock while the test still holds it");
		goto kill;
	}
	if (flock(fd_f, LOCK_UN)) {
		fail("flock(LOCK_UN)");
		goto kill;
	}
	if (!got(ack[0], 'f')) {
		fail("the flock waiter did not get the lock once the test released it");
		goto kill;
	}
	if (flock(fd_f, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK) {
		fail("the flock waiter does not hold LOCK_EX");
		goto kill;
	}
	close(end[1]);
	for (i = 0; i < 2; i++) {
		if (waitpid(kids[i], &status, 0) != kids[i] || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fail("waiter %d exited with status %#x", i, status);
			goto out;
		}
	}
	pass();
	ret = 0;
	goto out;
kill:
	for (i = 0; i < 2; i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
out:
	if (fd_p >= 0)
		close(fd_p);
	if (fd_f >= 0)
		close(fd_f);
	unlink(path_p);
	unlink(path_f);
	return ret;
}
