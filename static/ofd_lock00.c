#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "Open file description locks (F_OFD_SETLK): a write lock on [0,64) through one open "
		       "description and a read lock on [128,192) through another one of the same file; "
		       "F_OFD_GETLK from a third description (in a child and in the test) sees both with the exact "
		       "ranges, and each lock belongs to its own description";
const char *test_author = "Stasis developers";

static char *filename;
TEST_OPTION(filename, string, "name of the test file", 1);

#define WR_START 0
#define WR_LEN 64
#define RD_START 128
#define RD_LEN 64

static int ofd_getlk(int fd, short type, off_t start, off_t len, short wtype, off_t wstart, off_t wlen)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len, .l_pid = 0 };

	if (fcntl(fd, F_OFD_GETLK, &fl))
		return 1;
	if (fl.l_type != wtype)
		return 2;
	if (wtype == F_UNLCK)
		return 0;
	/* OFD locks have no owning process: l_pid is -1 */
	if (fl.l_whence != SEEK_SET || fl.l_start != wstart || fl.l_len != wlen || fl.l_pid != -1)
		return 3;
	return 0;
}

static int ofd_setlk(int fd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len, .l_pid = 0 };

	return fcntl(fd, F_OFD_SETLK, &fl);
}

/* Checks through a new open description (fd); 0 or the number of the failed check */
static int check_third(int fd, int held)
{
	if (!held)
		return ofd_getlk(fd, F_WRLCK, 0, 0, F_UNLCK, 0, 0) ? 30 : 0;
	if (ofd_getlk(fd, F_WRLCK, 0, 0, F_WRLCK, WR_START, WR_LEN))
		return 31;
	if (ofd_getlk(fd, F_WRLCK, WR_START + WR_LEN, 0, F_RDLCK, RD_START, RD_LEN))
		return 32;
	if (ofd_getlk(fd, F_RDLCK, WR_START + WR_LEN, 0, F_UNLCK, 0, 0))
		return 33;
	if (ofd_getlk(fd, F_WRLCK, WR_START + WR_LEN, RD_START - WR_START - WR_LEN, F_UNLCK, 0, 0))
		return 34;
	if (ofd_getlk(fd, F_WRLCK, RD_START + RD_LEN, 0, F_UNLCK, 0, 0))
		return 35;
	if (ofd_setlk(fd, F_RDLCK, WR_START + 1, 1) == 0 || errno != EAGAIN)
		return 36;
	if (ofd_setlk(fd, F_WRLCK, RD_START + RD_LEN - 1, 1) == 0 || errno != EAGAIN)
		return 37;
	return 0;
}

static int child_check(int held)
{
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	fd = open(filename, O_RDWR);
	if (fd < 0)
		return 10;
	return check_third(fd, held);
}

static int check(int fd_w, int fd_r, int held, const char *when)
{
	int status, fd, r;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return pr_perror("fork");
	if (pid == 0)
		_exit(child_check(held));
	if (waitpid(pid, &status, 0) != pid)
		return pr_perror("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		errno = 0;
		fail("%s: the checking child exited with status %#x (check %d: the OFD locks are not as set)",
		     when, status, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return 1;
	}
	/* in the test itself: OFD locks conflict between descriptions, not between processes */
	fd = open(filename, O_RDWR);
	if (fd < 0)
		return pr_perror("open");
	r = check_third(fd, held);
	close(fd);
	if (r) {
		errno = 0;
		fail("%s: a new description of the test's own sees the OFD locks wrongly (check %d)", when, r);
		return 1;
	}
	if (!held)
		return 0;
	/* each lock is its own description's: no conflict with itself, a conflict with the other one */
	if (ofd_getlk(fd_w, F_WRLCK, WR_START, WR_LEN, F_UNLCK, 0, 0) ||
	    ofd_getlk(fd_w, F_WRLCK, RD_START, RD_LEN, F_RDLCK, RD_START, RD_LEN) ||
	    ofd_getlk(fd_r, F_RDLCK, RD_START, RD_LEN, F_UNLCK, 0, 0) ||
	    ofd_getlk(fd_r, F_WRLCK, RD_START, RD_LEN, F_UNLCK, 0, 0) ||
	    ofd_getlk(fd_r, F_RDLCK, WR_START, WR_LEN, F_WRLCK, WR_START, WR_LEN)) {
		errno = 0;
		fail("%s: the locks do not belong to the descriptions that set them", when);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char buf[512] = {};
	int fd_w = -1, fd_r = -1, ret = 1;

	test_init(argc, argv);

	fd_w = open(filename, O_CREAT | O_EXCL | O_RDWR, 0644);
	if (fd_w < 0) {
		pr_perror("create %s", filename);
		return 1;
	}
	fd_r = open(filename, O_RDONLY);
	if (fd_r < 0 || write(fd_w, buf, sizeof(buf)) != sizeof(buf)) {
		pr_perror("open/write");
		goto out;
	}
	if (ofd_setlk(fd_w, F_WRLCK, WR_START, WR_LEN) || ofd_setlk(fd_r, F_RDLCK, RD_START, RD_LEN)) {
		pr_perror("F_OFD_SETLK");
		goto out;
	}
	if (check(fd_w, fd_r, 1, "before C/R"))
		goto out;

	test_daemon();
	test_waitsig();

	if (check(fd_w, fd_r, 1, "after C/R"))
		goto out;
	if (ofd_setlk(fd_w, F_UNLCK, 0, 0) || ofd_setlk(fd_r, F_UNLCK, 0, 0)) {
		fail("F_OFD_SETLK F_UNLCK");
		goto out;
	}
	if (check(fd_w, fd_r, 0, "after C/R and our F_UNLCK"))
		goto out;
	pass();
	ret = 0;
out:
	if (fd_r >= 0)
		close(fd_r);
	close(fd_w);
	unlink(filename);
	return ret;
}
