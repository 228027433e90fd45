#include <fcntl.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "zdtmtst.h"

const char *test_doc = "A sparse deleted file (data, a 3 MiB hole, data to an unaligned size) held by a "
		       "read-write description at an offset, its dup, and an O_WRONLY|O_APPEND one: after C/R "
		       "the file has no name, the same size, holes, content, mode, owner and times (to the "
		       "nanosecond), the offsets and flags, and the descriptions reach one inode";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

#define A_LEN 10000
#define B_AT (A_LEN + (3 << 20))
#define B_LEN 5555
#define SIZE (B_AT + B_LEN)

static uint8_t pat(long off)
{
	return (uint8_t)(off * 13 + (off >> 11) + 5);
}

int main(int argc, char **argv)
{
	static uint8_t buf[B_LEN + 100];
	struct timespec ts[2] = { { 1234567890, 123456789 }, { 1500000000, 987654321 } };
	int fd, dup_fd, app, fl_fd, fl_app, i;
	struct stat before, st, st2;
	char path[64], link[PATH_MAX], want[PATH_MAX + 300];
	ssize_t n;

	test_init(argc, argv);

	fd = open(filename, O_RDWR | O_CREAT | O_EXCL, 0640);
	if (fd < 0)
		return pr_perror("open %s", filename);
	for (i = 0; i < B_LEN; i++)
		buf[i] = pat(i);
	if (pwrite(fd, buf, A_LEN < B_LEN ? A_LEN : B_LEN, 0) < 0 || pwrite(fd, buf, B_LEN, B_AT) != B_LEN)
		return pr_perror("pwrite");
	for (i = B_LEN; i < A_LEN; i += B_LEN)
		if (pwrite(fd, buf, (A_LEN - i) < B_LEN ? (A_LEN - i) : B_LEN, i) < 0)
			return pr_perror("pwrite");
	app = open(filename, O_WRONLY | O_APPEND);
	if (app < 0)
		return pr_perror("open append");
	dup_fd = dup(fd);
	if (dup_fd < 0 || lseek(fd, 777, SEEK_SET) != 777)
		return pr_perror("dup");
	if (fchmod(fd, 0640) || futimens(fd, ts))
		return pr_perror("futimens");
	fl_fd = fcntl(fd, F_GETFL);
	fl_app = fcntl(app, F_GETFL);
	if (fstat(fd, &before) || unlink(filename))
		return pr_perror("unlink");
	if (!realpath(".", link))
		return pr_perror("realpath");
	snprintf(want, sizeof(want), "%s/%s (deleted)", link, filename);

	test_daemon();
	test_waitsig();

	if (fstat(fd, &st) || fstat(app, &st2))
		return pr_perror("fstat");
	if (st.st_ino != st2.st_ino || st.st_dev != st2.st_dev || st.st_nlink != 0 || st.st_size != SIZE ||
	    st.st_mode != before.st_mode || st.st_uid != before.st_uid || st.st_gid != before.st_gid) {
		fail("after C/R: ino %lu/%lu nlink %lu size %ld mode %o uid %d gid %d", (unsigned long)st.st_ino,
		     (unsigned long)st2.st_ino, (unsigned long)st.st_nlink, (long)st.st_size, st.st_mode, st.st_uid,
		     st.st_gid);
		return 1;
	}
	if (st.st_mtim.tv_sec != ts[1].tv_sec || st.st_mtim.tv_nsec != ts[1].tv_nsec ||
	    st.st_atim.tv_sec != ts[0].tv_sec || st.st_atim.tv_nsec != ts[0].tv_nsec) {
		fail("times after C/R: atime %ld.%09ld mtime %ld.%09ld", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
		     (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
		return 1;
	}
	if (st.st_blocks * 512 > 2 * (A_LEN + B_LEN) + 16 * 4096) {
		fail("the hole was filled: %ld blocks", (long)st.st_blocks);
		return 1;
	}
	if (lseek(app, A_LEN + 4096, SEEK_DATA) != (B_AT & ~4095L) && lseek(app, A_LEN + 4096, SEEK_DATA) != B_AT) {
		fail("SEEK_DATA after the hole: %ld", (long)lseek(app, A_LEN + 4096, SEEK_DATA));
		return 1;
	}
	if (lseek(fd, 0, SEEK_CUR) != 777 || lseek(dup_fd, 0, SEEK_CUR) != 777 ||
	    syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, fd, dup_fd) != 0 ||
	    syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, fd, app) == 0) {
		fail("offsets or descriptions after C/R (offset %ld)", (long)lseek(fd, 0, SEEK_CUR));
		return 1;
	}
	if (fcntl(fd, F_GETFL) != fl_fd || fcntl(app, F_GETFL) != fl_app) {
		fail("flags after C/R: %#x %#x", fcntl(fd, F_GETFL), fcntl(app, F_GETFL));
		return 1;
	}
	ssprintf(path, "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return pr_perror("readlink");
	link[n] = 0;
	if (strcmp(link, want)) {
		fail("the fd shows %s after C/R", link);
		return 1;
	}
	if (access(filename, F_OK) == 0) {
		fail("%s exists again after C/R", filename);
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	if (pread(fd, buf, B_LEN, B_AT) != B_LEN)
		return pr_perror("pread");
	for (i = 0; i < B_LEN; i++)
		if (buf[i] != pat(i)) {
			errno = 0;
			fail("content differs at %ld after C/R", (long)B_AT + i);
			return 1;
		}
	if (pread(fd, buf, 1, A_LEN + 100) != 1 || buf[0] != 0) {
		fail("the hole reads %#x after C/R", buf[0]);
		return 1;
	}
	if (write(app, "END", 3) != 3 || pread(fd, buf, 3, SIZE) != 3 || memcmp(buf, "END", 3)) {
		fail("the O_APPEND description does not append to the same file after C/R");
		return 1;
	}
	pass();
	return 0;
}
