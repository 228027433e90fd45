#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "flock() locks held by the test (LOCK_EX on one file, LOCK_SH on another) stay held by "
		       "the test's open descriptions: another process's LOCK_NB attempts conflict exactly as before";
const char *test_author = "Stasis developers";

static char *filename;
TEST_OPTION(filename, string, "base name of the test files", 1);

static char path_ex[PATH_MAX], path_sh[PATH_MAX];

/*
 * In a child: fresh open descriptions of both files, and LOCK_NB attempts.
 * ex_held: the test holds LOCK_EX on path_ex (else nothing on it).
 * Exit 0 iff every attempt behaves as the test's locks imply; else the number of the failed check.
 */
static int child_check(int ex_held)
{
	int fd, fd2;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	fd = open(path_ex, O_RDONLY);
	if (fd < 0)
		return 10;
	if (ex_held) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK)
			return 11;
		if (flock(fd, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK)
			return 12;
	} else {
		if (flock(fd, LOCK_EX | LOCK_NB))
			return 13;
	}
	close(fd);

	fd = open(path_sh, O_RDONLY);
	fd2 = open(path_sh, O_RDONLY);
	if (fd < 0 || fd2 < 0)
		return 20;
	/* the test's LOCK_SH: an exclusive lock conflicts, a shared one does not */
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK)
		return 21;
	if (flock(fd, LOCK_SH | LOCK_NB))
		return 22;
	if (flock(fd2, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK)
		return 23;
	return 0;
}

static int run_check(int ex_held, const char *when)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return pr_perror("fork");
	if (pid == 0)
		_exit(child_check(ex_held));
	if (waitpid(pid, &status, 0) != pid)
		return pr_perror("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		errno = 0;
		fail("%s: the checking child exited with status %#x (check %d in child_check: the locks "
		     "are not as the test set them)", when, status, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int fd_ex = -1, fd_sh = -1, ret = 1;

	test_init(argc, argv);

	ssprintf(path_ex, "%s.ex", filename);
	ssprintf(path_sh, "%s.sh", filename);
	fd_ex = open(path_ex, O_CREAT | O_EXCL | O_RDWR, 0644);
	fd_sh = open(path_sh, O_CREAT | O_EXCL | O_RDWR, 0644);
	if (fd_ex < 0 || fd_sh < 0) {
		pr_perror("create the test files");
		goto out;
	}
	if (flock(fd_ex, LOCK_EX | LOCK_NB) || flock(fd_sh, LOCK_SH | LOCK_NB)) {
		pr_perror("flock");
		goto out;
	}
	if (run_check(1, "before C/R"))
		goto out;

	test_daemon();
	test_waitsig();

	if (run_check(1, "after C/R"))
		goto out;
	/* The LOCK_EX belongs to our description: once we drop it, the file is free */
	if (flock(fd_ex, LOCK_UN)) {
		fail("flock(LOCK_UN) of the LOCK_EX file");
		goto out;
	}
	if (run_check(0, "after C/R and our LOCK_UN"))
		goto out;
	pass();
	ret = 0;
out:
	if (fd_ex >= 0)
		close(fd_ex);
	if (fd_sh >= 0)
		close(fd_sh);
	unlink(path_ex);
	unlink(path_sh);
	return ret;
}
