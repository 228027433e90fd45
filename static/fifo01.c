#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "An unlinked FIFO held open read-write and write-only (O_NONBLOCK) with data in flight: "
		       "after C/R the fds still reach one FIFO that has no name (st_nlink 0), its mode and "
		       "owner, and the data";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "FIFO path", 1);

#define DATA_LEN 1234

int main(int argc, char **argv)
{
	int rw, wr, i, avail = -1;
	uint8_t buf[DATA_LEN + 10];
	struct stat before, st[2];

	test_init(argc, argv);

	if (mkfifo(filename, 0604))
		return pr_perror("mkfifo %s", filename);
	if (chmod(filename, 0604))
		return pr_perror("chmod");
	rw = open(filename, O_RDWR);
	wr = open(filename, O_WRONLY | O_NONBLOCK);
	if (rw < 0 || wr < 0)
		return pr_perror("open %s", filename);
	for (i = 0; i < DATA_LEN; i++)
		buf[i] = (uint8_t)(i ^ 0x5a);
	if (write(wr, buf, DATA_LEN) != DATA_LEN)
		return pr_perror("write");
	if (fstat(rw, &before) || unlink(filename))
		return pr_perror("unlink");

	test_daemon();
	test_waitsig();

	if (fstat(rw, &st[0]) || fstat(wr, &st[1]))
		return pr_perror("fstat");
	if (st[0].st_ino != st[1].st_ino || st[0].st_dev != st[1].st_dev) {
		fail("the two fds are not one FIFO after C/R");
		return 1;
	}
	if (!S_ISFIFO(st[0].st_mode) || (st[0].st_mode & 07777) != 0604 || st[0].st_nlink != 0 ||
	    st[0].st_uid != before.st_uid || st[0].st_gid != before.st_gid) {
		fail("after C/R: mode %o nlink %lu uid %d gid %d (expected FIFO 604, 0 links, %d %d)",
		     st[0].st_mode, (unsigned long)st[0].st_nlink, st[0].st_uid, st[0].st_gid, before.st_uid,
		     before.st_gid);
		return 1;
	}
	if (access(filename, F_OK) == 0) {
		fail("%s exists again after C/R", filename);
		return 1;
	}
	if ((fcntl(wr, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) != (O_WRONLY | O_NONBLOCK) ||
	    (fcntl(rw, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) != O_RDWR) {
		fail("flags after C/R: %#x %#x", fcntl(rw, F_GETFL), fcntl(wr, F_GETFL));
		return 1;
	}
	if (ioctl(rw, FIONREAD, &avail) || avail != DATA_LEN || read(rw, buf, sizeof(buf)) != DATA_LEN) {
		fail("%d bytes queued after C/R, expected %d", avail, DATA_LEN);
		return 1;
	}
	for (i = 0; i < DATA_LEN; i++)
		if (buf[i] != (uint8_t)(i ^ 0x5a)) {
			errno = 0;
			fail("the data differs at byte %d", i);
			return 1;
		}
	if (write(wr, "ab", 2) != 2 || read(rw, buf, 2) != 2 || memcmp(buf, "ab", 2)) {
		fail("the write end does not reach the read-write end after C/R");
		return 1;
	}
	pass();
	return 0;
}
