#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "POSIX record locks (fcntl F_SETLK): a write lock on [100,200) and a read lock on "
		       "[300,450) of one file are held by the test: another process's F_GETLK reports them "
		       "with the exact ranges and the test's pid, and its conflicting F_SETLK fails with EAGAIN";
const char *test_author = "Stasis developers";

static char *filename;
TEST_OPTION(filename, string, "name of the test file", 1);

#define WR_START 100
#define WR_LEN 100
#define RD_START 300
#define RD_LEN 150

/* F_GETLK for [start, start+len) of type type; want: the lock expected back */
static int getlk(int fd, short type, off_t start, off_t len, short wtype, off_t wstart, off_t wlen, pid_t wpid)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	if (fcntl(fd, F_GETLK, &fl))
		return 1;
	if (fl.l_type != wtype)
		return 2;
	if (wtype == F_UNLCK)
		return 0;
	if (fl.l_whence != SEEK_SET || fl.l_start != wstart || fl.l_len != wlen || fl.l_pid != wpid)
		return 3;
	return 0;
}

static int setlk(int fd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	return fcntl(fd, F_SETLK, &fl);
}

/* Exit code: 0 or the number of the failed check */
static int child_check(pid_t owner, int held)
{
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	fd = open(filename, O_RDWR);
	if (fd < 0)
		return 10;
	if (!held) {
		if (getlk(fd, F_WRLCK, 0, 0, F_UNLCK, 0, 0, 0))
			return 11;
		return 0;
	}
	/* first conflict over the whole file: the write lock */
	if (getlk(fd, F_WRLCK, 0, 0, F_WRLCK, WR_START, WR_LEN, owner))
		return 12;
	/* a read lock conflicts with the write lock only */
	if (getlk(fd, F_RDLCK, 0, 0, F_WRLCK, WR_START, WR_LEN, owner))
		return 13;
	if (getlk(fd, F_RDLCK, WR_START + WR_LEN, 0, F_UNLCK, 0, 0, 0))
		return 14;
	/* after the write lock: the read lock, exact range */
	if (getlk(fd, F_WRLCK, WR_START + WR_LEN, 0, F_RDLCK, RD_START, RD_LEN, owner))
		return 15;
	/* the gaps and the edges are free */
	if (getlk(fd, F_WRLCK, 0, WR_START, F_UNLCK, 0, 0, 0))
		return 16;
	if (getlk(fd, F_WRLCK, WR_START + WR_LEN, RD_START - WR_START - WR_LEN, F_UNLCK, 0, 0, 0))
		return 17;
	if (getlk(fd, F_WRLCK, RD_START + RD_LEN, 0, F_UNLCK, 0, 0, 0))
		return 18;
	if (getlk(fd, F_WRLCK, WR_START + WR_LEN - 1, 1, F_WRLCK, WR_START, WR_LEN, owner))
		return 19;
	if (getlk(fd, F_WRLCK, RD_START + RD_LEN - 1, 1, F_RDLCK, RD_START, RD_LEN, owner))
		return 20;
	/* F_SETLK: conflicts fail with EAGAIN (Linux; POSIX also allows EACCES), the rest works */
	if (setlk(fd, F_RDLCK, WR_START + 50, 1) == 0 || errno != EAGAIN)
		return 21;
	if (setlk(fd, F_WRLCK, RD_START, 1) == 0 || errno != EAGAIN)
		return 22;
	if (setlk(fd, F_RDLCK, RD_START + 10, 10))
		return 23;
	if (setlk(fd, F_WRLCK, WR_START + WR_LEN, RD_START - WR_START - WR_LEN))
		return 24;
	return 0;
}

static int run_check(int held, const char *when)
{
	pid_t owner = getpid(), pid;
	int status;

	pid = fork();
	if (pid < 0)
		return pr_perror("fork");
	if (pid == 0)
		_exit(child_check(owner, held));
	if (waitpid(pid, &status, 0) != pid)
		return pr_perror("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		errno = 0;
		fail("%s: the checking child exited with status %#x (check %d in child_check: the test's "
		     "record locks are not as set)", when, status, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char buf[1024] = {};
	int fd, ret = 1;

	test_init(argc, argv);

	fd = open(filename, O_CREAT | O_EXCL | O_RDWR, 0644);
	if (fd < 0) {
		pr_perror("create %s", filename);
		return 1;
	}
	if (write(fd, buf, sizeof(buf)) != sizeof(buf)) {
		pr_perror("write");
		goto out;
	}
	if (setlk(fd, F_WRLCK, WR_START, WR_LEN) || setlk(fd, F_RDLCK, RD_START, RD_LEN)) {
		pr_perror("F_SETLK");
		goto out;
	}
	if (run_check(1, "before C/R"))
		goto out;

	test_daemon();
	test_waitsig();

	if (run_check(1, "after C/R"))
		goto out;
	/* the locks are the test's own: unlocking them frees the file */
	if (setlk(fd, F_UNLCK, 0, 0)) {
		fail("F_SETLK F_UNLCK");
		goto out;
	}
	if (run_check(0, "after C/R and our F_UNLCK"))
		goto out;
	pass();
	ret = 0;
out:
	close(fd);
	unlink(filename);
	return ret;
}
