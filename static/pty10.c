#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <sys/ioctl.h>

#include "zdtmtst.h"

const char *test_doc = "The session leader takes a pty of its own as its controlling terminal, then closes every "
		       "fd of the slave: dump must refuse it (the terminal could not be taken again) and leave it";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int master, slave, idx, fd;
	char name[64];

	test_init(argc, argv);

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || unlockpt(master) || ioctl(master, TIOCGPTN, &idx))
		return pr_perror("posix_openpt");
	snprintf(name, sizeof(name), "/dev/pts/%d", idx);
	slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0 || ioctl(slave, TIOCSCTTY, 0))
		return pr_perror("TIOCSCTTY");
	close(slave);

	test_daemon();
	test_waitsig();

	fd = open("/dev/tty", O_RDWR | O_NOCTTY);
	if (fd < 0 || tcgetsid(fd) != getsid(0)) {
		fail("the pty is no longer the controlling terminal");
		return 1;
	}
	pass();
	return 0;
}
