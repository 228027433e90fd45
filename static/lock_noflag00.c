#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A flock() LOCK_EX and a POSIX write lock held by the test, dumped without --file-locks: "
		       "the dump must refuse (as criu does) and leave the test running with both locks held";
const char *test_author = "Stasis developers";

static char *filename;
TEST_OPTION(filename, string, "name of the test file", 1);

static int held(void)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
	int status, fd;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return pr_perror("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		fd = open(filename, O_RDWR);
		if (fd < 0)
			_exit(10);
		if (flock(fd, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK)
			_exit(11);
		if (fcntl(fd, F_GETLK, &fl) || fl.l_type != F_WRLCK || fl.l_pid != getppid())
			_exit(12);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return pr_perror("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		errno = 0;
		fail("the locks are not held (status %#x)", status);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
	int fd, ret = 1;

	test_init(argc, argv);

	fd = open(filename, O_CREAT | O_EXCL | O_RDWR, 0644);
	if (fd < 0) {
		pr_perror("create %s", filename);
		return 1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) || fcntl(fd, F_SETLK, &fl)) {
		pr_perror("lock");
		goto out;
	}
	if (held())
		goto out;

	test_daemon();
	test_waitsig();

	if (held())
		goto out;
	pass();
	ret = 0;
out:
	close(fd);
	unlink(filename);
	return ret;
}
