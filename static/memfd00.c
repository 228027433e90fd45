#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "zdtmtst.h"

const char *test_doc = "A sparse memfd (data, a 1 MiB hole, data up to an unaligned size) with two descriptions, "
		       "read-write with MFD_CLOEXEC and read-only reopened through /proc/self/fd, each at its own "
		       "offset: name, size, holes, content, offsets, flags and FD_CLOEXEC survive C/R";
const char *test_author = "Stasis developers";

#define HOLE_AT 8192
#define DATA2 (HOLE_AT + (1 << 20))
#define SIZE (DATA2 + 10000 + 123)

static uint8_t pat(long off)
{
	return (uint8_t)(off * 11 + (off >> 12) + 7);
}

int main(int argc, char **argv)
{
	static uint8_t buf[SIZE];
	int fd, ro, fl_fd, fl_ro;
	char path[64], link[256];
	struct stat st, st2;
	long i;
	ssize_t n;

	test_init(argc, argv);

	fd = memfd_create("zdtm memfd00", MFD_CLOEXEC);
	if (fd < 0)
		return pr_perror("memfd_create");
	for (i = 0; i < SIZE; i++)
		buf[i] = (i >= HOLE_AT && i < DATA2) ? 0 : pat(i);
	if (pwrite(fd, buf, HOLE_AT, 0) != HOLE_AT ||
	    pwrite(fd, buf + DATA2, SIZE - DATA2, DATA2) != SIZE - DATA2)
		return pr_perror("pwrite");
	ssprintf(path, "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY);
	if (ro < 0)
		return pr_perror("reopen");
	if (lseek(fd, 4321, SEEK_SET) != 4321 || lseek(ro, DATA2 + 5, SEEK_SET) != DATA2 + 5)
		return pr_perror("lseek");
	fl_fd = fcntl(fd, F_GETFL);
	fl_ro = fcntl(ro, F_GETFL);

	test_daemon();
	test_waitsig();

	ssprintf(path, "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return pr_perror("readlink");
	link[n] = 0;
	if (strcmp(link, "/memfd:zdtm memfd00 (deleted)")) {
		fail("the memfd is %s after C/R", link);
		return 1;
	}
	if (fstat(fd, &st) || fstat(ro, &st2))
		return pr_perror("fstat");
	if (st.st_ino != st2.st_ino || st.st_size != SIZE || !S_ISREG(st.st_mode)) {
		fail("after C/R: inodes %lu %lu, size %ld (expected one inode, %d)", (unsigned long)st.st_ino,
		     (unsigned long)st2.st_ino, (long)st.st_size, SIZE);
		return 1;
	}
	if (st.st_blocks * 512 > SIZE - (DATA2 - HOLE_AT) + 2 * 4096) {
		fail("the hole was filled: %ld blocks", (long)st.st_blocks);
		return 1;
	}
	if (lseek(fd, 0, SEEK_HOLE) != HOLE_AT || lseek(fd, HOLE_AT, SEEK_DATA) != DATA2) {
		fail("SEEK_HOLE/SEEK_DATA after C/R: %ld %ld", (long)lseek(fd, 0, SEEK_HOLE),
		     (long)lseek(fd, HOLE_AT, SEEK_DATA));
		return 1;
	}
	if (lseek(fd, 0, SEEK_CUR) != 0) /* the SEEK_HOLE above moved it; check the other */
		;
	if (lseek(ro, 0, SEEK_CUR) != DATA2 + 5) {
		fail("the read-only description is at %ld after C/R", (long)lseek(ro, 0, SEEK_CUR));
		return 1;
	}
	if (fcntl(fd, F_GETFL) != fl_fd || fcntl(ro, F_GETFL) != fl_ro || fcntl(fd, F_GETFD) != FD_CLOEXEC ||
	    fcntl(ro, F_GETFD) != 0) {
		fail("flags after C/R: %#x %#x fd flags %d %d", fcntl(fd, F_GETFL), fcntl(ro, F_GETFL),
		     fcntl(fd, F_GETFD), fcntl(ro, F_GETFD));
		return 1;
	}
	if (syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, fd, ro) <= 0) {
		fail("the two fds share a description after C/R");
		return 1;
	}
	if (write(ro, "x", 1) != -1 || errno != EBADF) {
		fail("the read-only description can write after C/R");
		return 1;
	}
	memset(buf, 0xff, sizeof(buf));
	if (pread(fd, buf, SIZE, 0) != SIZE)
		return pr_perror("pread");
	for (i = 0; i < SIZE; i++)
		if (buf[i] != ((i >= HOLE_AT && i < DATA2) ? 0 : pat(i))) {
			errno = 0;
			fail("content differs at %ld after C/R", i);
			return 1;
		}
	pass();
	return 0;
}
