#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "zdtmtst.h"

const char *test_doc = "/dev/tty opened while a pty was the controlling terminal, which the session then gave "
		       "up (TIOCNOTTY): the file leads to a terminal that is no one's controlling terminal, so the "
		       "dump is refused and the process runs on with it";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int master, slave, tty, idx;
	unsigned int dev;
	char name[64];

	test_init(argc, argv);

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || unlockpt(master) || ioctl(master, TIOCGPTN, &idx))
		return pr_perror("posix_openpt");
	snprintf(name, sizeof(name), "/dev/pts/%d", idx);
	slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0 || ioctl(slave, TIOCSCTTY, 0))
		return pr_perror("TIOCSCTTY");
	tty = open("/dev/tty", O_RDWR);
	if (tty < 0)
		return pr_perror("open /dev/tty");
	signal(SIGHUP, SIG_IGN);
	if (ioctl(slave, TIOCNOTTY))
		return pr_perror("TIOCNOTTY");

	test_daemon();
	test_waitsig();

	if (ioctl(tty, TIOCGDEV, &dev)) {
		fail("/dev/tty no longer leads to the pty");
		return 1;
	}
	if (write(tty, "x", 1) != 1) {
		fail("write through /dev/tty");
		return 1;
	}
	pass();
	return 0;
}
