#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "zdtmtst.h"

const char *test_doc = "Two open descriptions of one pipe's read end (the second from /proc/self/fd/N with "
		       "O_NONBLOCK), a blocking first one, a non-blocking write end, data queued: each fd's F_GETFL, "
		       "the descriptions (kcmp, and O_NONBLOCK changed on one only) and the data survive C/R";
const char *test_author = "Stasis developers";

#define DATA_LEN 3000

static uint8_t pat(int off)
{
	return (uint8_t)(off * 29 + (off >> 7) + 3);
}

static int same_desc(int a, int b)
{
	pid_t me = getpid();

	return syscall(SYS_kcmp, me, me, KCMP_FILE, a, b);
}

int main(int argc, char **argv)
{
	int p[2], r2, fl_r, fl_r2, fl_w, i, avail = -1;
	uint8_t buf[DATA_LEN + 100];
	struct stat st[3], st_before;
	char path[64];
	ssize_t n;

	test_init(argc, argv);

	if (pipe(p)) {
		pr_perror("pipe");
		return 1;
	}
	ssprintf(path, "/proc/self/fd/%d", p[0]);
	r2 = open(path, O_RDONLY | O_NONBLOCK);
	if (r2 < 0) {
		pr_perror("open %s", path);
		return 1;
	}
	if (fcntl(p[1], F_SETFL, O_NONBLOCK)) {
		pr_perror("F_SETFL");
		return 1;
	}
	for (i = 0; i < DATA_LEN; i++)
		buf[i] = pat(i);
	if (write(p[1], buf, DATA_LEN) != DATA_LEN) {
		pr_perror("write");
		return 1;
	}
	fl_r = fcntl(p[0], F_GETFL);
	fl_r2 = fcntl(r2, F_GETFL);
	fl_w = fcntl(p[1], F_GETFL);
#define FL(x) ((x) & (O_ACCMODE | O_NONBLOCK))
	/* open() adds O_LARGEFILE to the second one: the values are compared whole after C/R */
	if (FL(fl_r) != O_RDONLY || FL(fl_r2) != (O_RDONLY | O_NONBLOCK) || FL(fl_w) != (O_WRONLY | O_NONBLOCK)) {
		pr_err("unexpected F_GETFL after the setup: %#x %#x %#x\n", fl_r, fl_r2, fl_w);
		return 1;
	}
	if (same_desc(p[0], r2) <= 0 || fstat(p[0], &st_before)) {
		pr_perror("kcmp: the two read fds are one description before C/R");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (fcntl(p[0], F_GETFL) != fl_r || fcntl(r2, F_GETFL) != fl_r2 || fcntl(p[1], F_GETFL) != fl_w) {
		fail("F_GETFL after C/R: read %#x (was %#x), second read %#x (was %#x), write %#x (was %#x)",
		     fcntl(p[0], F_GETFL), fl_r, fcntl(r2, F_GETFL), fl_r2, fcntl(p[1], F_GETFL), fl_w);
		return 1;
	}
	if (fstat(p[0], &st[0]) || fstat(r2, &st[1]) || fstat(p[1], &st[2]))
		return pr_perror("fstat");
	if (!S_ISFIFO(st[0].st_mode) || st[0].st_ino != st[1].st_ino || st[0].st_ino != st[2].st_ino ||
	    st[0].st_dev != st[1].st_dev) {
		fail("the three fds are not one pipe after C/R (inodes %lu %lu %lu)", (unsigned long)st[0].st_ino,
		     (unsigned long)st[1].st_ino, (unsigned long)st[2].st_ino);
		return 1;
	}
	i = same_desc(p[0], r2);
	if (i <= 0) {
		fail("kcmp(KCMP_FILE) of the two read fds gives %d after C/R: one description, expected two", i);
		return 1;
	}
	i = same_desc(p[0], p[1]);
	if (i <= 0) {
		fail("kcmp(KCMP_FILE) of the read and write ends gives %d after C/R", i);
		return 1;
	}
	/* O_NONBLOCK set on the first read fd must not show on the second, and back */
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) || fcntl(r2, F_GETFL) != fl_r2 || fcntl(r2, F_SETFL, 0) ||
	    fcntl(p[0], F_GETFL) != (fl_r | O_NONBLOCK)) {
		fail("O_NONBLOCK changed on one read fd changed the other (%#x %#x)", fcntl(p[0], F_GETFL),
		     fcntl(r2, F_GETFL));
		return 1;
	}
	if (fcntl(p[0], F_SETFL, 0) || fcntl(r2, F_SETFL, O_NONBLOCK))
		return pr_perror("F_SETFL back");
	if (ioctl(r2, FIONREAD, &avail) || avail != DATA_LEN) {
		fail("%d bytes queued after C/R, expected %d", avail, DATA_LEN);
		return 1;
	}
	n = read(r2, buf, sizeof(buf));
	if (n != DATA_LEN) {
		fail("read %zd bytes from the second read fd after C/R, expected %d", n, DATA_LEN);
		return 1;
	}
	for (i = 0; i < DATA_LEN; i++)
		if (buf[i] != pat(i)) {
			errno = 0;
			fail("the queued data differs at byte %d after C/R", i);
			return 1;
		}
	n = read(r2, buf, 1);
	if (n != -1 || errno != EAGAIN) {
		fail("read from the drained pipe through the O_NONBLOCK fd: %zd", n);
		return 1;
	}
	/* the write end is non-blocking: filling the pipe ends with EAGAIN, not a hang */
	memset(buf, 'z', sizeof(buf));
	for (i = 0; i < 1000; i++) {
		n = write(p[1], buf, sizeof(buf));
		if (n < 0)
			break;
	}
	if (n != -1 || errno != EAGAIN) {
		fail("the write end does not behave as O_NONBLOCK after C/R (%zd)", n);
		return 1;
	}
	pass();
	return 0;
}
