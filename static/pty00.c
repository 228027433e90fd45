#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <sys/ioctl.h>

#include "zdtmtst.h"

const char *test_doc = "A pty pair in one process, termios (raw, 9600 baud, VMIN 1) and window size changed, the "
		       "master O_NONBLOCK: after C/R the same index, termios and window size on both ends, unlocked, "
		       "not exclusive, not in packet mode, and data flows both ways";
const char *test_author = "Stasis developers";

static int check_io(int from, int to, const char *msg)
{
	char buf[64];
	int n, len = strlen(msg);

	if (write(from, msg, len) != len) {
		pr_perror("write %s", msg);
		return -1;
	}
	n = read(to, buf, sizeof(buf));
	if (n != len || memcmp(buf, msg, len)) {
		fail("sent '%s', read %d bytes '%.*s'", msg, n, n > 0 ? n : 0, buf);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct winsize ws = { .ws_row = 37, .ws_col = 91, .ws_xpixel = 640, .ws_ypixel = 480 }, ws2;
	struct termios t, t2;
	int master, slave, idx, idx2, v, fl;
	char name[64];

	test_init(argc, argv);

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master))
		return pr_perror("posix_openpt");
	if (ioctl(master, TIOCGPTN, &idx))
		return pr_perror("TIOCGPTN");
	snprintf(name, sizeof(name), "/dev/pts/%d", idx);
	slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0)
		return pr_perror("open %s", name);
	if (tcgetattr(slave, &t))
		return pr_perror("tcgetattr");
	cfmakeraw(&t);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	t.c_cc[VINTR] = 7;
	cfsetispeed(&t, B9600);
	cfsetospeed(&t, B9600);
	if (tcsetattr(slave, TCSANOW, &t) || tcgetattr(slave, &t))
		return pr_perror("tcsetattr");
	if (ioctl(master, TIOCSWINSZ, &ws))
		return pr_perror("TIOCSWINSZ");
	if (fcntl(master, F_SETFL, O_NONBLOCK))
		return pr_perror("F_SETFL");
	fl = fcntl(master, F_GETFL);

	test_daemon();
	test_waitsig();

	if (ioctl(master, TIOCGPTN, &idx2) || idx2 != idx) {
		fail("pty index %d after C/R, was %d", idx2, idx);
		return 1;
	}
	if (fcntl(master, F_GETFL) != fl || (fcntl(slave, F_GETFL) & O_NONBLOCK)) {
		fail("flags after C/R: master %#x (was %#x), slave %#x", fcntl(master, F_GETFL), fl,
		     fcntl(slave, F_GETFL));
		return 1;
	}
	if (tcgetattr(slave, &t2) || memcmp(&t, &t2, sizeof(t))) {
		fail("termios of the slave differ after C/R (lflag %#x was %#x)", t2.c_lflag, t.c_lflag);
		return 1;
	}
	if (tcgetattr(master, &t2) || memcmp(&t, &t2, sizeof(t)) || cfgetospeed(&t2) != B9600) {
		fail("termios seen from the master differ after C/R");
		return 1;
	}
	if (ioctl(slave, TIOCGWINSZ, &ws2) || memcmp(&ws, &ws2, sizeof(ws))) {
		fail("window size %dx%d after C/R, was %dx%d", ws2.ws_row, ws2.ws_col, ws.ws_row, ws.ws_col);
		return 1;
	}
	if (ioctl(master, TIOCGPTLCK, &v) || v) {
		fail("the pty is locked after C/R");
		return 1;
	}
	if (ioctl(master, TIOCGPKT, &v) || v) {
		fail("packet mode after C/R");
		return 1;
	}
	if (ioctl(slave, TIOCGEXCL, &v) || v || ioctl(master, TIOCGEXCL, &v) || v) {
		fail("exclusive mode after C/R");
		return 1;
	}
	if (check_io(master, slave, "ping\r\n") || check_io(slave, master, "pong\n"))
		return 1;
	pass();
	return 0;
}
