#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "The session leader takes a pty of its own as its controlling terminal and a child in its "
		       "own group is the foreground group: after C/R both have it as controlling terminal "
		       "(/dev/tty opens), the session and the foreground group are the same";
const char *test_author = "Stasis developers";

static int is_ctty(int slave, pid_t fg)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY);

	if (fd < 0)
		return 0;
	close(fd);
	return tcgetsid(slave) == getsid(0) && tcgetpgrp(slave) == fg;
}

int main(int argc, char **argv)
{
	int master, slave, idx, p[2], q[2], status;
	char name[64], c;
	pid_t pid;

	test_init(argc, argv);

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || unlockpt(master) || ioctl(master, TIOCGPTN, &idx))
		return pr_perror("posix_openpt");
	snprintf(name, sizeof(name), "/dev/pts/%d", idx);
	slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) || pipe(p) || pipe(q))
		return pr_perror("TIOCSCTTY");
	pid = fork();
	if (pid < 0)
		return pr_perror("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(p[1]);
		close(q[0]);
		if (setpgid(0, 0))
			_exit(2);
		/* its fds are final: the parent may report ready (else the harness may record them before) */
		if (write(q[1], "r", 1) != 1)
			_exit(2);
		close(q[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(3);
		_exit(is_ctty(slave, getpid()) ? 0 : 4);
	}
	close(p[0]);
	close(q[1]);
	if (read(q[0], &c, 1) != 1)
		return pr_perror("the child did not start");
	close(q[0]);
	if (setpgid(pid, pid) && getpgid(pid) != pid)
		return pr_perror("setpgid");
	signal(SIGTTOU, SIG_IGN);
	if (tcsetpgrp(slave, pid))
		return pr_perror("tcsetpgrp");
	signal(SIGTTOU, SIG_DFL);

	test_daemon();
	test_waitsig();

	if (!is_ctty(slave, pid)) {
		fail("after C/R: session %d (mine %d), foreground group %d (expected %d)", tcgetsid(slave),
		     getsid(0), tcgetpgrp(slave), pid);
		return 1;
	}
	if (write(p[1], "g", 1) != 1 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fail("the child in the foreground group ended with %#x", status);
		return 1;
	}
	pass();
	return 0;
}
