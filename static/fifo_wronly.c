#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A named FIFO whose write end is ours (O_WRONLY, opened while a child held the read end) "
		       "with data written before C/R: after it the child reads that data and what we write then";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

#define MSG1 "written before C/R;"
#define MSG2 "and after it"

int main(int argc, char **argv)
{
	int wfd, go[2], status;
	pid_t pid;
	char c;

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
		char buf[64] = "";
		int rfd;

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(go[1]);
		rfd = open(filename, O_RDONLY);
		if (rfd < 0)
			_exit(2);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		if (read_data(rfd, (unsigned char *)buf, strlen(MSG1 MSG2)) || strcmp(buf, MSG1 MSG2))
			_exit(4);
		_exit(read(rfd, &c, 1) == 0 ? 0 : 5);
	}
	close(go[0]);
	wfd = open(filename, O_WRONLY);
	if (wfd < 0 || write(wfd, MSG1, strlen(MSG1)) != strlen(MSG1)) {
		pr_perror("open/write");
		kill(pid, SIGKILL);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if ((fcntl(wfd, F_GETFL) & O_ACCMODE) != O_WRONLY) {
		fail("not O_WRONLY after C/R");
		kill(pid, SIGKILL);
		return 1;
	}
	if (write(wfd, MSG2, strlen(MSG2)) != strlen(MSG2)) {
		fail("write after C/R");
		kill(pid, SIGKILL);
		return 1;
	}
	close(wfd);
	if (write(go[1], "g", 1) != 1 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the reader: %#x (2 open, 3 go, 4 data, 5 no EOF)", status);
		return 1;
	}
	pass();
	return 0;
}
