#include <fcntl.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A FIFO shared between processes: the child opens it read-only, the parent "
		       "write-only, and both hold one O_RDWR description from before the fork; "
		       "data in flight both ways through it; after C/R the child reads its data, the description "
		       "is still one (kcmp across the processes) and EOF comes when all writers close";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "FIFO path", 1);

#define DATA_LEN 20000

static uint8_t pat(int off)
{
	return (uint8_t)(off * 31 + (off >> 10));
}

int main(int argc, char **argv)
{
	int shared, wr, ctl[2], ready[2], i, status, avail = -1;
	uint8_t buf[DATA_LEN];
	pid_t kid;
	char c;

	test_init(argc, argv);

	if (mkfifo(filename, 0600) || pipe(ctl) || pipe(ready))
		return pr_perror("mkfifo %s", filename);
	shared = open(filename, O_RDWR | O_NONBLOCK);
	if (shared < 0)
		return pr_perror("open O_RDWR");
	kid = fork();
	if (kid < 0)
		return pr_perror("fork");
	if (kid == 0) {
		int rd, n, got = 0;

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(ctl[1]);
		rd = open(filename, O_RDONLY);
		if (rd < 0 || write(ready[1], "r", 1) != 1)
			_exit(2);
		if (read(ctl[0], &c, 1) != 1) /* after C/R */
			_exit(3);
		if (fcntl(shared, F_GETFL) & O_NONBLOCK) /* the parent cleared it on the shared description */
			_exit(4);
		close(shared);
		while ((n = read(rd, buf + got, sizeof(buf) - got)) > 0)
			got += n;
		if (n < 0 || got != DATA_LEN)
			_exit(5);
		for (i = 0; i < DATA_LEN; i++)
			if (buf[i] != pat(i))
				_exit(6);
		_exit(0);
	}
	close(ctl[0]);
	if (read(ready[0], &c, 1) != 1)
		return pr_perror("read ready");
	if (fcntl(shared, F_SETFL, 0))
		return pr_perror("F_SETFL");
	wr = open(filename, O_WRONLY);
	if (wr < 0)
		return pr_perror("open O_WRONLY");
	for (i = 0; i < DATA_LEN; i++)
		buf[i] = pat(i);
	if (write(wr, buf, DATA_LEN) != DATA_LEN)
		return pr_perror("write");

	test_daemon();
	test_waitsig();

	if (ioctl(wr, FIONREAD, &avail) || avail != DATA_LEN) {
		fail("%d bytes queued after C/R, expected %d", avail, DATA_LEN);
		kill(kid, SIGKILL);
		return 1;
	}
	i = syscall(SYS_kcmp, getpid(), kid, KCMP_FILE, shared, shared);
	if (i != 0) {
		fail("kcmp of the O_RDWR fd in parent and child gives %d after C/R: not one description", i);
		kill(kid, SIGKILL);
		return 1;
	}
	if (write(ctl[1], "g", 1) != 1)
		return pr_perror("write ctl");
	close(wr);
	close(shared);
	if (waitpid(kid, &status, 0) != kid)
		return pr_perror("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child failed after C/R (status %#x)", status);
		return 1;
	}
	unlink(filename);
	pass();
	return 0;
}
