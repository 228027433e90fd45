#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <sys/ioctl.h>

#include "zdtmtst.h"

const char *test_doc = "A pty in packet mode: after C/R the mode is kept, data comes with a TIOCPKT_DATA "
		       "header and a flush of the slave's input is reported to the master";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int master, slave, idx, one = 1, v, n;
	char name[64], buf[64];
	struct termios t;

	test_init(argc, argv);

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master) || ioctl(master, TIOCGPTN, &idx))
		return pr_perror("posix_openpt");
	snprintf(name, sizeof(name), "/dev/pts/%d", idx);
	slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0 || tcgetattr(slave, &t))
		return pr_perror("open %s", name);
	cfmakeraw(&t);
	if (tcsetattr(slave, TCSANOW, &t))
		return pr_perror("tcsetattr");
	if (ioctl(master, TIOCPKT, &one))
		return pr_perror("TIOCPKT");

	test_daemon();
	test_waitsig();

	if (ioctl(master, TIOCGPKT, &v) || v != 1) {
		fail("packet mode is %d after C/R", v);
		return 1;
	}
	if (write(slave, "xy", 2) != 2)
		return pr_perror("write");
	n = read(master, buf, sizeof(buf));
	if (n != 3 || buf[0] != TIOCPKT_DATA || memcmp(buf + 1, "xy", 2)) {
		fail("read %d bytes from the master in packet mode (first %#x)", n, n > 0 ? buf[0] : -1);
		return 1;
	}
	if (tcflush(slave, TCIFLUSH))
		return pr_perror("tcflush");
	n = read(master, buf, sizeof(buf));
	if (n != 1 || !(buf[0] & TIOCPKT_FLUSHREAD)) {
		fail("after a flush the master read %d bytes (first %#x)", n, n > 0 ? buf[0] : -1);
		return 1;
	}
	pass();
	return 0;
}
