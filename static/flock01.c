#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A flock() LOCK_EX on an open file description shared by fork: the test and its child "
		       "hold one description and so one lock. After C/R it is still one lock: another description "
		       "cannot take the file, and the child's LOCK_UN through its fd frees it for everybody";
const char *test_author = "Stasis developers";

static char *filename;
TEST_OPTION(filename, string, "name of the test file", 1);

/* a fresh description in a new process: 0 if flock(LOCK_EX | LOCK_NB) behaves as `held` implies */
static int other(int held, const char *when)
{
	int status, fd;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return pr_perror("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		fd = open(filename, O_RDONLY);
		if (fd < 0)
			_exit(10);
		if (held)
			_exit(flock(fd, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK ? 11 : 0);
		_exit(flock(fd, LOCK_EX | LOCK_NB) ? 12 : 0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return pr_perror("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		errno = 0;
		fail("%s: another description %s the file (status %#x)", when,
		     held ? "can lock" : "cannot lock", status);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int fd, cmd[2], ack[2], status, ret = 1;
	pid_t child;
	char c;

	test_init(argc, argv);

	fd = open(filename, O_CREAT | O_EXCL | O_RDWR, 0644);
	if (fd < 0 || pipe(cmd) || pipe(ack)) {
		pr_perror("create %s", filename);
		return 1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		pr_perror("flock");
		goto out;
	}
	child = fork();
	if (child < 0) {
		pr_perror("fork");
		goto out;
	}
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(cmd[1]);
		close(ack[0]);
		if (write(ack[1], "r", 1) != 1) /* set up: the parent may say it is ready */
			_exit(5);
		if (read(cmd[0], &c, 1) != 1 || c != 'u')
			_exit(1);
		/* the lock is the description's: our LOCK_UN releases the parent's lock too */
		if (flock(fd, LOCK_UN))
			_exit(2);
		if (write(ack[1], "u", 1) != 1)
			_exit(3);
		_exit(read(cmd[0], &c, 1) == 0 ? 0 : 4);
	}
	close(cmd[0]);
	close(ack[1]);
	if (read(ack[0], &c, 1) != 1 || c != 'r') {
		pr_err("the child did not get ready\n");
		goto kill;
	}
	if (other(1, "before C/R"))
		goto kill;

	test_daemon();
	test_waitsig();

	if (other(1, "after C/R"))
		goto kill;
	/* taking it again through the same description converts nothing: still ours */
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		fail("flock(LOCK_EX) again on our own description");
		goto kill;
	}
	if (write(cmd[1], "u", 1) != 1 || read(ack[0], &c, 1) != 1 || c != 'u') {
		fail("the child did not unlock");
		goto kill;
	}
	if (other(0, "after C/R and the child's LOCK_UN"))
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
