#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "zdtmtst.h"

const char *test_doc = "An open file with its mode (0604), times (utimes to a fixed past date) and size set "
		       "(ftruncate past its data: a hole): after C/R fstat gives the same mode, size, mtime, and "
		       "the data";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

#define MTIME 1234567890

int main(int argc, char **argv)
{
	struct timeval tv[2] = { { MTIME - 100, 0 }, { MTIME, 0 } };
	struct stat st;
	char buf[16];
	int fd;

	test_init(argc, argv);

	fd = open(filename, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "attrs", 5) != 5 || ftruncate(fd, 1 << 20) || fchmod(fd, 0604) || futimes(fd, tv)) {
		pr_perror("setup");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (fstat(fd, &st)) {
		fail("fstat");
		return 1;
	}
	if ((st.st_mode & 07777) != 0604 || st.st_size != 1 << 20 || st.st_mtime != MTIME) {
		fail("mode %o size %ld mtime %ld after C/R, expected 604 %d %d", st.st_mode & 07777, (long)st.st_size,
		     (long)st.st_mtime, 1 << 20, MTIME);
		return 1;
	}
	memset(buf, 1, sizeof(buf));
	if (pread(fd, buf, 5, 0) != 5 || memcmp(buf, "attrs", 5) || pread(fd, buf, 8, 4096) != 8 || buf[0] || buf[7]) {
		fail("the data or the hole changed");
		return 1;
	}
	pass();
	return 0;
}
