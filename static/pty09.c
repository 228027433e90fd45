#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <sys/ioctl.h>

#include "zdtmtst.h"

const char *test_doc = "A pty in packet mode with a status byte pending on the master (the slave flushed its "
		       "input): dump must refuse it and the status byte stays";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int master, slave, idx, one = 1, n;
	char name[64], buf[8];

	test_init(argc, argv);

	master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (master < 0 || unlockpt(master) || ioctl(master, TIOCGPTN, &idx))
		return pr_perror("posix_openpt");
	snprintf(name, sizeof(name), "/dev/pts/%d", idx);
	slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0 || ioctl(master, TIOCPKT, &one) || tcflush(slave, TCIFLUSH))
		return pr_perror("packet mode");

	test_daemon();
	test_waitsig();

	n = read(master, buf, sizeof(buf));
	if (n != 1 || !(buf[0] & TIOCPKT_FLUSHREAD)) {
		fail("the master read %d bytes (first %#x), expected the flush status", n, n > 0 ? buf[0] : -1);
		return 1;
	}
	pass();
	return 0;
}
