#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "zdtmtst.h"

const char *test_doc = "A FIFO opened read-only (non-blocking, first), write-only and read-write, each its own "
		       "description with its flags, data in flight: the flags, the descriptions, the inode of the "
		       "path and the data survive C/R";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "FIFO path", 1);

#define DATA_LEN 5000

static uint8_t pat(int off)
{
	return (uint8_t)(off * 7 + (off >> 8) + 1);
}

static int same_desc(int a, int b)
{
	pid_t me = getpid();

	return syscall(SYS_kcmp, me, me, KCMP_FILE, a, b);
}

int main(int argc, char **argv)
{
	int rd, wr, rw, fl[3], i, avail = -1;
	uint8_t buf[DATA_LEN + 10];
	struct stat st_path, st[3];
	ssize_t n;

	test_init(argc, argv);

	if (mkfifo(filename, 0640))
		return pr_perror("mkfifo %s", filename);
	rd = open(filename, O_RDONLY | O_NONBLOCK);
	wr = open(filename, O_WRONLY);
	rw = open(filename, O_RDWR | O_APPEND);
	if (rd < 0 || wr < 0 || rw < 0)
		return pr_perror("open %s", filename);
	if (fcntl(rd, F_SETFL, 0))
		return pr_perror("F_SETFL");
	if (fcntl(rw, F_SETFL, O_NONBLOCK | O_APPEND))
		return pr_perror("F_SETFL");
	for (i = 0; i < DATA_LEN; i++)
		buf[i] = pat(i);
	if (write(wr, buf, DATA_LEN) != DATA_LEN)
		return pr_perror("write");
	fl[0] = fcntl(rd, F_GETFL);
	fl[1] = fcntl(wr, F_GETFL);
	fl[2] = fcntl(rw, F_GETFL);
	if (stat(filename, &st_path))
		return pr_perror("stat");

	test_daemon();
	test_waitsig();

	if (fcntl(rd, F_GETFL) != fl[0] || fcntl(wr, F_GETFL) != fl[1] || fcntl(rw, F_GETFL) != fl[2]) {
		fail("F_GETFL after C/R: %#x %#x %#x, were %#x %#x %#x", fcntl(rd, F_GETFL), fcntl(wr, F_GETFL),
		     fcntl(rw, F_GETFL), fl[0], fl[1], fl[2]);
		return 1;
	}
	if (fstat(rd, &st[0]) || fstat(wr, &st[1]) || fstat(rw, &st[2]))
		return pr_perror("fstat");
	for (i = 0; i < 3; i++)
		if (!S_ISFIFO(st[i].st_mode) || st[i].st_ino != st_path.st_ino || st[i].st_dev != st_path.st_dev) {
			fail("fd %d is not the FIFO at %s after C/R", i, filename);
			return 1;
		}
	if (same_desc(rd, wr) <= 0 || same_desc(rd, rw) <= 0 || same_desc(wr, rw) <= 0) {
		fail("two of the three fds share a description after C/R");
		return 1;
	}
	if (ioctl(rd, FIONREAD, &avail) || avail != DATA_LEN) {
		fail("%d bytes queued after C/R, expected %d", avail, DATA_LEN);
		return 1;
	}
	n = read(rd, buf, sizeof(buf));
	if (n != DATA_LEN) {
		fail("read %zd bytes after C/R, expected %d", n, DATA_LEN);
		return 1;
	}
	for (i = 0; i < DATA_LEN; i++)
		if (buf[i] != pat(i)) {
			errno = 0;
			fail("the data differs at byte %d after C/R", i);
			return 1;
		}
	/* the read-write end is non-blocking and still connected: a write comes out of the read end */
	if (read(rw, buf, 1) != -1 || errno != EAGAIN) {
		fail("the O_RDWR end does not behave as O_NONBLOCK on an empty FIFO");
		return 1;
	}
	if (write(rw, "xyz", 3) != 3 || read(rd, buf, 3) != 3 || memcmp(buf, "xyz", 3)) {
		fail("data written to the O_RDWR end does not reach the read end after C/R");
		return 1;
	}
	unlink(filename);
	pass();
	return 0;
}
