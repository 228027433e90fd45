#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A pty slave whose master is held only outside the tree (by a grandchild whose parent "
		       "exited): dump must refuse it without --shell-job and leave the slave working";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int master, slave, idx, s[2], r[2], status, n;
	char name[64], buf[4];
	struct termios t;
	pid_t pid;

	test_init(argc, argv);

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || unlockpt(master) || ioctl(master, TIOCGPTN, &idx))
		return pr_perror("posix_openpt");
	snprintf(name, sizeof(name), "/dev/pts/%d", idx);
	slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0 || pipe(s) || pipe(r))
		return pr_perror("open %s", name);
	pid = fork();
	if (pid < 0)
		return pr_perror("fork");
	if (pid == 0) {
		/* the grandchild keeps the master until the test closes s[1] (or exits) */
		if (fork() == 0) {
			close(slave);
			close(s[1]);
			close(r[0]);
			close(r[1]);
			while (read(s[0], buf, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || status)
		return pr_perror("waitpid");
	close(s[0]);
	close(r[1]);
	do
		n = read(r[0], buf, 1);
	while (n > 0 || (n < 0 && errno == EINTR));
	close(r[0]);
	close(master);

	test_daemon();
	test_waitsig();

	if (tcgetattr(slave, &t) || write(slave, "q", 1) != 1) {
		fail("the slave does not work after the refused dump");
		return 1;
	}
	close(s[1]);
	pass();
	return 0;
}
