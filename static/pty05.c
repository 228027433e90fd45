#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <sys/ioctl.h>

#include "zdtmtst.h"

const char *test_doc = "The session leader takes a pty slave of its own as its controlling terminal: dump must "
		       "refuse it and leave it so";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int master, slave, idx;
	char name[64];

	test_init(argc, argv);

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || unlockpt(master) || ioctl(master, TIOCGPTN, &idx))
		return pr_perror("posix_openpt");
	snprintf(name, sizeof(name), "/dev/pts/%d", idx);
	slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0 || ioctl(slave, TIOCSCTTY, 0))
		return pr_perror("TIOCSCTTY");

	test_daemon();
	test_waitsig();

	if (tcgetsid(slave) != getsid(0) || tcgetpgrp(slave) != getpgrp()) {
		fail("the pty is no longer the controlling terminal");
		return 1;
	}
	pass();
	return 0;
}
