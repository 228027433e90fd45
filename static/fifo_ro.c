#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A named FIFO whose read end is ours (O_RDONLY) and whose write end is a child's "
		       "(O_WRONLY), with data in it: after C/R the access modes are the same, the data is there, "
		       "and the child's last write and close give the rest and EOF";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

int main(int argc, char **argv)
{
	int rfd, go[2], status;
	char buf[64], c;
	pid_t pid;

	test_init(argc, argv);

	if (mkfifo(filename, 0600) || pipe(go)) {
		pr_perror("mkfifo");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		int wfd;

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(go[1]);
		wfd = open(filename, O_WRONLY);
		if (wfd < 0 || write(wfd, "before;", 7) != 7)
			_exit(2);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		if ((fcntl(wfd, F_GETFL) & O_ACCMODE) != O_WRONLY)
			_exit(4);
		_exit(write(wfd, "after", 5) == 5 ? 0 : 5);
	}
	close(go[0]);
	rfd = open(filename, O_RDONLY);
	if (rfd < 0) {
		pr_perror("open");
		goto err;
	}
	/* the child's first write is in */
	for (status = 0; status < 2000; status++) {
		int n = 0;

		if (ioctl(rfd, FIONREAD, &n) == 0 && n == 7)
			break;
		usleep(1000);
	}

	test_daemon();
	test_waitsig();

	if ((fcntl(rfd, F_GETFL) & O_ACCMODE) != O_RDONLY) {
		fail("the read end is not O_RDONLY after C/R");
		goto err;
	}
	if (write(go[1], "g", 1) != 1 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the writer failed: %#x", status);
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	if (read_data(rfd, (unsigned char *)buf, 12) || strcmp(buf, "before;after") || read(rfd, &c, 1) != 0) {
		fail("read '%s' from the FIFO, or no EOF", buf);
		return 1;
	}
	pass();
	return 0;
err:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 1;
}
