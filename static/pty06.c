#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <sys/ioctl.h>

#include "zdtmtst.h"

const char *test_doc = "Data written to the master and not read from the slave yet: dump must refuse it (the "
		       "data is queued in the tty) and the data stays";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int master, slave, idx, n;
	char name[64], buf[16];
	struct termios t;

	test_init(argc, argv);

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || unlockpt(master) || ioctl(master, TIOCGPTN, &idx))
		return pr_perror("posix_openpt");
	snprintf(name, sizeof(name), "/dev/pts/%d", idx);
	slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0 || tcgetattr(slave, &t))
		return pr_perror("open %s", name);
	cfmakeraw(&t);
	if (tcsetattr(slave, TCSANOW, &t) || write(master, "abc", 3) != 3)
		return pr_perror("write");

	test_daemon();
	test_waitsig();

	n = read(slave, buf, sizeof(buf));
	if (n != 3 || memcmp(buf, "abc", 3)) {
		fail("the slave read %d bytes", n);
		return 1;
	}
	pass();
	return 0;
}
