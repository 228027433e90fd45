#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "A flock() LOCK_EX held only through a shared mapping of the file (opened, locked, "
		       "mapped, fd closed: the JVM's hsperfdata file): no fd shows the lock, so the dump must "
		       "refuse it rather than lose it, and leave the test running with the lock held";
const char *test_author = "Stasis developers";

static char *filename;
TEST_OPTION(filename, string, "name of the test file", 1);

#define WORDS "held through a mapping"

/* In a child: a fresh open description of the file must conflict with the test's lock. */
static int held(void)
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
		if (flock(fd, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK)
			_exit(11);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return pr_perror("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		errno = 0;
		fail("the lock is not held (status %#x)", status);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd, ret = 1;
	char *map;

	test_init(argc, argv);

	fd = open(filename, O_CREAT | O_EXCL | O_RDWR, 0644);
	if (fd < 0) {
		pr_perror("create %s", filename);
		return 1;
	}
	if (ftruncate(fd, page) || flock(fd, LOCK_EX | LOCK_NB)) {
		pr_perror("ftruncate or flock");
		close(fd);
		goto out;
	}
	map = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		pr_perror("mmap");
		goto out;
	}
	strcpy(map, WORDS);
	if (held())
		goto out;

	test_daemon();
	test_waitsig();

	if (held())
		goto out;
	if (strcmp(map, WORDS)) {
		fail("the mapping holds %.30s", map);
		goto out;
	}
	pass();
	ret = 0;
out:
	unlink(filename);
	return ret;
}
