#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "zdtmtst.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

const char *test_doc = "A pty slave opened through TIOCGPTPEER (as glibc's openpty, so forkpty: tmux, screen), "
		       "whose description has no O_LARGEFILE, and one opened by path, which has it: after C/R "
		       "both have the flags they had (F_GETFL) and data flows from the master to each";
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
	int master, peer, byname, fl_peer, fl_name;
	char *name;

	test_init(argc, argv);

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master)) {
		pr_perror("posix_openpt");
		return 1;
	}
	name = ptsname(master);
	peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	byname = name ? open(name, O_RDWR | O_NOCTTY) : -1;
	if (peer < 0 || byname < 0) {
		pr_perror("TIOCGPTPEER or open %s", name);
		return 1;
	}
	fl_peer = fcntl(peer, F_GETFL);
	fl_name = fcntl(byname, F_GETFL);
	if (fl_peer == fl_name) {
		fail("both slaves have flags %#o: the test needs TIOCGPTPEER without O_LARGEFILE", fl_peer);
		return 1;
	}
	/* the terminal echoes and cooks by default: raw, so that what the master writes is read as it is */
	{
		struct termios t;

		if (tcgetattr(peer, &t)) {
			pr_perror("tcgetattr");
			return 1;
		}
		cfmakeraw(&t);
		if (tcsetattr(peer, TCSANOW, &t)) {
			pr_perror("tcsetattr");
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	if (fcntl(peer, F_GETFL) != fl_peer || fcntl(byname, F_GETFL) != fl_name) {
		fail("flags %#o and %#o, they were %#o and %#o", fcntl(peer, F_GETFL), fcntl(byname, F_GETFL),
		     fl_peer, fl_name);
		return 1;
	}
	if (check_io(master, peer, "to the peer") || check_io(master, byname, "to the other"))
		return 1;
	pass();
	return 0;
}
