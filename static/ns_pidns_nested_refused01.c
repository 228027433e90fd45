#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A session leader in a nested pid namespace with a pty as its controlling terminal: "
		       "a terminal's session and group are not given back inside a nested pid namespace yet, so "
		       "the dump must be refused with the tree left running; afterwards the child still has it";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int p[2], q[2], status, master;
	pid_t pid;
	char c = 0;

	test_init(argc, argv);

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master) || pipe(p) || pipe(q) || unshare(CLONE_NEWPID)) {
		pr_perror("pty/pipe/unshare(CLONE_NEWPID)");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		int slave;

		if (setsid() < 0)
			_exit(1);
		slave = open(ptsname(master), O_RDWR);
		if (slave < 0 || ioctl(slave, TIOCSCTTY, 0))
			_exit(2);
		if (write(p[1], "r", 1) != 1 || read(q[0], &c, 1) != 1)
			_exit(3);
		_exit(tcgetsid(slave) == getpid() && getpid() == 1 ? 0 : 4);
	}
	if (read(p[0], &c, 1) != 1) {
		pr_err("the child did not get ready\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (write(q[1], "g", 1) != 1 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fail("the child lost its terminal or pid (status %#x)", status);
		return 1;
	}
	pass();
	return 0;
}
