#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "zdtmtst.h"

const char *test_doc = "Only masters open: one whose slave was never opened (reads say EAGAIN), one whose slave "
		       "was opened and closed (reads say EIO); after C/R the same, and a slave opened afterwards "
		       "has the window size set on the master and data flows";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	struct winsize ws = { .ws_row = 12, .ws_col = 34, .ws_xpixel = 5, .ws_ypixel = 6 }, ws2;
	int m1, m2, i1, i2, s, n;
	char name[64], buf[16];

	test_init(argc, argv);

	m1 = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	m2 = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (m1 < 0 || m2 < 0 || unlockpt(m1) || unlockpt(m2) || ioctl(m1, TIOCGPTN, &i1) ||
	    ioctl(m2, TIOCGPTN, &i2))
		return pr_perror("posix_openpt");
	if (ioctl(m1, TIOCSWINSZ, &ws))
		return pr_perror("TIOCSWINSZ");
	snprintf(name, sizeof(name), "/dev/pts/%d", i2);
	s = open(name, O_RDWR | O_NOCTTY);
	if (s < 0)
		return pr_perror("open %s", name);
	close(s);

	test_daemon();
	test_waitsig();

	if (ioctl(m1, TIOCGPTN, &n) || n != i1 || ioctl(m2, TIOCGPTN, &n) || n != i2) {
		fail("indexes changed after C/R (were %d %d)", i1, i2);
		return 1;
	}
	n = read(m1, buf, sizeof(buf));
	if (n >= 0 || errno != EAGAIN) {
		fail("reading the master of a never opened slave gave %d (errno %d)", n, errno);
		return 1;
	}
	n = read(m2, buf, sizeof(buf));
	if (n >= 0 || errno != EIO) {
		fail("reading the master of a closed slave gave %d (errno %d)", n, errno);
		return 1;
	}
	snprintf(name, sizeof(name), "/dev/pts/%d", i1);
	s = open(name, O_RDWR | O_NOCTTY);
	if (s < 0)
		return pr_perror("open %s after C/R", name);
	if (ioctl(s, TIOCGWINSZ, &ws2) || memcmp(&ws, &ws2, sizeof(ws))) {
		fail("window size %dx%d after C/R", ws2.ws_row, ws2.ws_col);
		return 1;
	}
	if (write(s, "z\n", 2) != 2 || (n = read(m1, buf, sizeof(buf))) != 3 || memcmp(buf, "z\r\n", 3)) {
		fail("data from the new slave: %d bytes", n);
		return 1;
	}
	pass();
	return 0;
}
