#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "Processes of the tree blocked on locks held by the test: one child in F_SETLKW on the "
		       "test's POSIX write lock, one in flock(LOCK_EX) on the test's LOCK_EX, one in F_OFD_SETLKW "
		       "on the test's OFD write lock. After C/R all still wait (their syscalls restarted); each "
		       "gets its lock exactly when the test releases it";
const char *test_author = "Stasis developers";

static char *filename;
TEST_OPTION(filename, string, "base name of the test files", 1);

static char path_p[PATH_MAX], path_f[PATH_MAX], path_o[PATH_MAX];

enum { POSIX, FLOCK, OFD, NKIDS };
static const char *names[] = { "p", "f", "o" };

static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	return fcntl(fd, cmd, &fl);
}

/* The waiters: block on the lock, say which one they got, hold it until the pipe closes */
static int waiter(int kind, int ack, int end)
{
	char c;
	int fd, r;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	fd = open(kind == POSIX ? path_p : kind == FLOCK ? path_f : path_o, O_RDWR);
	if (fd < 0)
		return 1;
	if (kind == POSIX)
		r = setlk(fd, F_SETLKW, F_WRLCK, 10, 20);
	else if (kind == FLOCK)
		r = flock(fd, LOCK_EX);
	else
		r = setlk(fd, F_OFD_SETLKW, F_WRLCK, 5, 5);
	if (r)
		return 2;
	if (write(ack, names[kind], 1) != 1)
		return 3;
	if (read(end, &c, 1) != 0)
		return 4;
	return 0;
}

/* /proc/locks shows a waiter on the file of fd ("-> KIND ... [pid] dev:ino ..."; OFD waiters show pid -1) */
static int waiting(int fd, pid_t pid, const char *kind)
{
	char line[256], want_pid[64], want_ino[64];
	FILE *f = fopen("/proc/locks", "r");
	struct stat st;
	int found = 0;

	if (!f || fstat(fd, &st)) {
		if (f)
			fclose(f);
		return -1;
	}
	snprintf(want_pid, sizeof(want_pid), " %d ", pid);
	snprintf(want_ino, sizeof(want_ino), ":%llu ", (unsigned long long)st.st_ino);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "-> ") && strstr(line, kind) && strstr(line, want_pid) && strstr(line, want_ino))
			found = 1;
	fclose(f);
	return found;
}

static int wait_waiting(int fd, pid_t pid, const char *kind)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (waiting(fd, pid, kind) == 1)
			return 0;
		usleep(10000);
	}
	return -1;
}

static int all_waiting(int fd_p, int fd_f, int fd_o, pid_t *kids)
{
	return wait_waiting(fd_p, kids[POSIX], "POSIX") || wait_waiting(fd_f, kids[FLOCK], "FLOCK") ||
	       wait_waiting(fd_o, -1, "OFDLCK");
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
	int fd_p = -1, fd_f = -1, fd_o = -1, ack[2], end[2], status, i, ret = 1;
	pid_t kids[NKIDS] = {};
	struct flock fl;

	test_init(argc, argv);

	ssprintf(path_p, "%s.posix", filename);
	ssprintf(path_f, "%s.flock", filename);
	ssprintf(path_o, "%s.ofd", filename);
	fd_p = open(path_p, O_CREAT | O_EXCL | O_RDWR, 0644);
	fd_f = open(path_f, O_CREAT | O_EXCL | O_RDWR, 0644);
	fd_o = open(path_o, O_CREAT | O_EXCL | O_RDWR, 0644);
	if (fd_p < 0 || fd_f < 0 || fd_o < 0 || pipe(ack) || pipe(end)) {
		pr_perror("create the test files and pipes");
		goto out;
	}
	if (setlk(fd_p, F_SETLK, F_WRLCK, 0, 100) || flock(fd_f, LOCK_EX | LOCK_NB) ||
	    setlk(fd_o, F_OFD_SETLK, F_WRLCK, 0, 0)) {
		pr_perror("lock");
		goto out;
	}
	for (i = 0; i < NKIDS; i++) {
		kids[i] = fork();
		if (kids[i] < 0) {
			pr_perror("fork");
			goto kill;
		}
		if (kids[i] == 0) {
			close(ack[0]);
			close(end[1]);
			_exit(waiter(i, ack[1], end[0]));
		}
	}
	close(ack[1]);
	close(end[0]);
	if (all_waiting(fd_p, fd_f, fd_o, kids)) {
		pr_err("the children do not wait on the locks\n");
		goto kill;
	}

	test_daemon();
	test_waitsig();

	if (!quiet(ack[0])) {
		fail("a waiter got its lock while the test still holds it");
		goto kill;
	}
	if (all_waiting(fd_p, fd_f, fd_o, kids)) {
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
	if (!quiet(ack[0])) {
		fail("the OFD waiter got its lock while the test still holds it");
		goto kill;
	}
	if (setlk(fd_o, F_OFD_SETLK, F_UNLCK, 0, 0)) {
		fail("F_OFD_SETLK F_UNLCK");
		goto kill;
	}
	if (!got(ack[0], 'o')) {
		fail("the OFD waiter did not get the lock once the test released it");
		goto kill;
	}
	fl = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
	if (fcntl(fd_o, F_OFD_GETLK, &fl) || fl.l_type != F_WRLCK || fl.l_pid != -1 || fl.l_start != 5 ||
	    fl.l_len != 5) {
		fail("the OFD waiter's lock: type %d pid %d [%lld, +%lld)", fl.l_type, fl.l_pid,
		     (long long)fl.l_start, (long long)fl.l_len);
		goto kill;
	}
	close(end[1]);
	for (i = 0; i < NKIDS; i++) {
		if (waitpid(kids[i], &status, 0) != kids[i] || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fail("waiter %d exited with status %#x", i, status);
			goto out;
		}
	}
	pass();
	ret = 0;
	goto out;
kill:
	for (i = 0; i < NKIDS; i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
out:
	if (fd_p >= 0)
		close(fd_p);
	if (fd_f >= 0)
		close(fd_f);
	if (fd_o >= 0)
		close(fd_o);
	unlink(path_p);
	unlink(path_f);
	unlink(path_o);
	return ret;
}
