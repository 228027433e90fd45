#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <sys/ioctl.h>

#include "zdtmtst.h"

const char *test_doc = "Locked termios on a pty (ECHO and the VINTR character locked, set as root): after C/R "
		       "the lock is the same and a change of the locked bits is ignored";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	struct termios lk, lk2, t;
	int master, slave, idx;
	char name[64];

	test_init(argc, argv);

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || unlockpt(master) || ioctl(master, TIOCGPTN, &idx))
		return pr_perror("posix_openpt");
	snprintf(name, sizeof(name), "/dev/pts/%d", idx);
	slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0)
		return pr_perror("open %s", name);
	memset(&lk, 0, sizeof(lk));
	lk.c_lflag = ECHO;
	lk.c_cc[VINTR] = 0xff;
	if (ioctl(slave, TIOCSLCKTRMIOS, &lk) || ioctl(slave, TIOCGLCKTRMIOS, &lk))
		return pr_perror("TIOCSLCKTRMIOS");

	test_daemon();
	test_waitsig();

	if (ioctl(slave, TIOCGLCKTRMIOS, &lk2) || lk2.c_lflag != lk.c_lflag ||
	    lk2.c_cc[VINTR] != lk.c_cc[VINTR] || lk2.c_iflag || lk2.c_oflag) {
		fail("locked termios after C/R: lflag %#x, VINTR %#x", lk2.c_lflag, lk2.c_cc[VINTR]);
		return 1;
	}
	if (tcgetattr(slave, &t))
		return pr_perror("tcgetattr");
	t.c_lflag &= ~ECHO;
	t.c_cc[VINTR] = 1;
	if (tcsetattr(slave, TCSANOW, &t) || tcgetattr(slave, &t))
		return pr_perror("tcsetattr");
	if (!(t.c_lflag & ECHO) || t.c_cc[VINTR] == 1) {
		fail("the locked ECHO or VINTR changed after C/R");
		return 1;
	}
	pass();
	return 0;
}
