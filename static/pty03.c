#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "zdtmtst.h"

const char *test_doc = "Three ptys with a free index between two of them: one relocked with its slave open, one "
		       "unlocked with its slave open, one never unlocked; after C/R the same indexes, the locked "
		       "ones refuse to open their slave (EIO), the open slaves work, an unlock lets the slave open";
const char *test_author = "Stasis developers";

static int openpt(int *idx)
{
	int fd = posix_openpt(O_RDWR | O_NOCTTY);

	if (fd < 0 || ioctl(fd, TIOCGPTN, idx)) {
		pr_perror("posix_openpt");
		return -1;
	}
	return fd;
}

static int open_pts(int idx)
{
	char name[64];

	snprintf(name, sizeof(name), "/dev/pts/%d", idx);
	return open(name, O_RDWR | O_NOCTTY);
}

static int locked(int m)
{
	int v = -1;

	if (ioctl(m, TIOCGPTLCK, &v))
		return -1;
	return v;
}

static int echo_ok(int m, int s)
{
	char buf[16];

	return write(m, "a\n", 2) == 2 && read(s, buf, sizeof(buf)) == 2 && !memcmp(buf, "a\n", 2);
}

int main(int argc, char **argv)
{
	int a, b, c, hole, ia, ib, ic, ih, sa, sb, sc, fd, zero = 0, one = 1, v;

	test_init(argc, argv);

	if ((a = openpt(&ia)) < 0 || (hole = openpt(&ih)) < 0 || (b = openpt(&ib)) < 0 || (c = openpt(&ic)) < 0)
		return 1;
	close(hole);
	if (ioctl(a, TIOCSPTLCK, &zero) || (sa = open_pts(ia)) < 0 || ioctl(a, TIOCSPTLCK, &one))
		return pr_perror("pty a");
	if (ioctl(b, TIOCSPTLCK, &zero) || (sb = open_pts(ib)) < 0)
		return pr_perror("pty b");

	test_daemon();
	test_waitsig();

	if (ioctl(a, TIOCGPTN, &v) || v != ia || ioctl(b, TIOCGPTN, &v) || v != ib ||
	    ioctl(c, TIOCGPTN, &v) || v != ic) {
		fail("indexes changed after C/R (were %d %d %d)", ia, ib, ic);
		return 1;
	}
	if (locked(a) != 1 || locked(b) != 0 || locked(c) != 1) {
		fail("lock states %d %d %d after C/R, expected 1 0 1", locked(a), locked(b), locked(c));
		return 1;
	}
	if (!echo_ok(a, sa) || !echo_ok(b, sb)) {
		fail("data does not flow through the open slaves after C/R");
		return 1;
	}
	fd = open_pts(ia);
	if (fd >= 0 || errno != EIO) {
		fail("the locked slave %d opened (%d, errno %d)", ia, fd, errno);
		return 1;
	}
	fd = open_pts(ic);
	if (fd >= 0 || errno != EIO) {
		fail("the never unlocked slave %d opened (%d, errno %d)", ic, fd, errno);
		return 1;
	}
	if (ioctl(c, TIOCSPTLCK, &zero) || (sc = open_pts(ic)) < 0 || !echo_ok(c, sc)) {
		fail("the unlocked pty %d does not work after C/R", ic);
		return 1;
	}
	pass();
	return 0;
}
