#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "Locks on one file held by the test and by its child: the test's POSIX write lock on "
		       "[0, 100) and flock LOCK_SH on its description, the child's POSIX read lock on [200, 300) and "
		       "LOCK_SH on its own description. Another process sees each POSIX lock with its owner's pid; "
		       "after C/R the child's unlock frees only its range, and the file is free for LOCK_EX only "
		       "once both shared flocks are gone";
const char *test_author = "Stasis developers";

static char *filename;
TEST_OPTION(filename, string, "name of the test file", 1);

static int setlk(int fd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	return fcntl(fd, F_SETLK, &fl);
}

static int getlk(int fd, off_t start, off_t len, short *type, pid_t *pid)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	if (fcntl(fd, F_GETLK, &fl))
		return -1;
	*type = fl.l_type;
	*pid = fl.l_pid;
	return 0;
}

/*
 * A fresh process and description. stage 0: everything held; 1: the child unlocked its POSIX lock
 * and its flock; 2: the test dropped its flock too.
 */
static int checker(pid_t parent, pid_t child, int stage)
{
	short type;
	pid_t pid;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	fd = open(filename, O_RDWR);
	if (fd < 0)
		return 10;
	if (getlk(fd, 0, 100, &type, &pid) || type != F_WRLCK || pid != parent)
		return 11;
	if (getlk(fd, 200, 100, &type, &pid))
		return 12;
	if (stage == 0 && (type != F_RDLCK || pid != child))
		return 13;
	if (stage > 0 && type != F_UNLCK)
		return 14;
	if (getlk(fd, 100, 100, &type, &pid) || type != F_UNLCK)
		return 15;
	if (stage < 2) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK)
			return 16;
		if (flock(fd, LOCK_SH | LOCK_NB))
			return 17;
	} else if (flock(fd, LOCK_EX | LOCK_NB)) {
		return 18;
	}
	return 0;
}

static int run_check(pid_t child, int stage, const char *when)
{
	pid_t parent = getpid(), pid;
	int status;

	pid = fork();
	if (pid < 0)
		return pr_perror("fork");
	if (pid == 0)
		_exit(checker(parent, child, stage));
	if (waitpid(pid, &status, 0) != pid)
		return pr_perror("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		errno = 0;
		fail("%s: the checking process exited with status %#x (check %d in checker)", when, status,
		     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return 1;
	}
	return 0;
}

/* The child: takes its locks, says so, waits for the order to unlock, unlocks, says so, waits for the end */
static int child_main(int cmd, int ack)
{
	char c;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	fd = open(filename, O_RDWR);
	if (fd < 0 || setlk(fd, F_RDLCK, 200, 100) || flock(fd, LOCK_SH | LOCK_NB))
		return 1;
	if (write(ack, "l", 1) != 1)
		return 2;
	if (read(cmd, &c, 1) != 1 || c != 'u')
		return 3;
	if (setlk(fd, F_UNLCK, 200, 100) || flock(fd, LOCK_UN))
		return 4;
	if (write(ack, "u", 1) != 1)
		return 5;
	if (read(cmd, &c, 1) != 0)
		return 6;
	return 0;
}

int main(int argc, char **argv)
{
	int fd, cmd[2], ack[2], status, ret = 1;
	pid_t child;
	char c;

	test_init(argc, argv);

	fd = open(filename, O_CREAT | O_EXCL | O_RDWR, 0644);
	if (fd < 0 || ftruncate(fd, 4096)) {
		pr_perror("create %s", filename);
		return 1;
	}
	if (pipe(cmd) || pipe(ack)) {
		pr_perror("pipe");
		goto out;
	}
	child = fork();
	if (child < 0) {
		pr_perror("fork");
		goto out;
	}
	if (child == 0) {
		close(cmd[1]);
		close(ack[0]);
		close(fd);
		_exit(child_main(cmd[0], ack[1]));
	}
	close(cmd[0]);
	close(ack[1]);
	if (setlk(fd, F_WRLCK, 0, 100) || flock(fd, LOCK_SH | LOCK_NB)) {
		pr_perror("lock");
		goto kill;
	}
	if (read(ack[0], &c, 1) != 1 || c != 'l') {
		pr_perror("the child did not take its locks");
		goto kill;
	}
	if (run_check(child, 0, "before C/R"))
		goto kill;

	test_daemon();
	test_waitsig();

	if (run_check(child, 0, "after C/R"))
		goto kill;
	if (write(cmd[1], "u", 1) != 1 || read(ack[0], &c, 1) != 1 || c != 'u') {
		fail("the child did not unlock");
		goto kill;
	}
	if (run_check(child, 1, "after C/R and the child's unlock"))
		goto kill;
	if (flock(fd, LOCK_UN)) {
		fail("flock(LOCK_UN)");
		goto kill;
	}
	if (run_check(child, 2, "after C/R and both unlocks"))
		goto kill;
	close(cmd[1]);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child exited with status %#x", status);
		goto out;
	}
	pass();
	ret = 0;
	goto out;
kill:
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
out:
	close(fd);
	unlink(filename);
	return ret;
}
