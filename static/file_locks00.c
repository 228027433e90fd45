#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "POSIX record locks of two processes on one file (a read lock and a write lock on "
		       "separate ranges of the parent, a write lock of a child): after C/R F_GETLK from a third "
		       "process sees each lock with its owner, type and range";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

static int lock(int fd, int type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	return fcntl(fd, F_SETLK, &fl);
}

/* in a fresh process: who holds [start, start+len) and how */
static int probe(off_t start, off_t len, int want_type, pid_t want_pid)
{
	int p[2], status;
	pid_t pid;
	struct flock fl;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		int fd = open(filename, O_RDWR);

		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		fl.l_start = start;
		fl.l_len = len;
		if (fd < 0 || fcntl(fd, F_GETLK, &fl))
			_exit(1);
		_exit(write(p[1], &fl, sizeof(fl)) == sizeof(fl) ? 0 : 1);
	}
	close(p[1]);
	if (read(p[0], &fl, sizeof(fl)) != sizeof(fl) || waitpid(pid, &status, 0) != pid || status) {
		close(p[0]);
		return -1;
	}
	close(p[0]);
	if (fl.l_type != want_type || (want_type != F_UNLCK && (fl.l_pid != want_pid || fl.l_start != start ||
								fl.l_len != len))) {
		fail("[%ld, +%ld): type %d pid %d [%ld, +%ld), expected type %d pid %d", (long)start, (long)len,
		     fl.l_type, fl.l_pid, (long)fl.l_start, (long)fl.l_len, want_type, want_pid);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int fd, go[2], ready[2], status;
	pid_t kid;
	char c;

	test_init(argc, argv);

	fd = open(filename, O_RDWR | O_CREAT | O_TRUNC, 0666);
	if (fd < 0 || ftruncate(fd, 4096) || pipe(go) || pipe(ready)) {
		pr_perror("open");
		return 1;
	}
	if (lock(fd, F_RDLCK, 0, 100) || lock(fd, F_WRLCK, 200, 50)) {
		pr_perror("lock");
		return 1;
	}
	kid = fork();
	if (kid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (kid == 0) {
		int kfd = open(filename, O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (kfd < 0 || lock(kfd, F_WRLCK, 1000, 10) || write(ready[1], "r", 1) != 1)
			_exit(1);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	if (read(ready[0], &c, 1) != 1) {
		pr_err("the child did not lock\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (probe(0, 100, F_RDLCK, getpid()) || probe(200, 50, F_WRLCK, getpid()) || probe(1000, 10, F_WRLCK, kid) ||
	    probe(300, 100, F_UNLCK, 0))
		goto err;
	if (write(go[1], "g", 1) != 1 || waitpid(kid, &status, 0) != kid || status) {
		fail("child %#x", status);
		return 1;
	}
	if (probe(1000, 10, F_UNLCK, 0))
		return 1;
	pass();
	return 0;
err:
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	return 1;
}
