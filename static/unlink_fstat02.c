#include <fcntl.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "A file with two hard links, each opened, then both links unlinked: after C/R the two fds "
		       "are still of one inode (a write through one is read through the other), with no links";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

int main(int argc, char **argv)
{
	char link2[4096], buf[16];
	struct stat s1, s2;
	int fd1, fd2;

	test_init(argc, argv);

	snprintf(link2, sizeof(link2), "%s.2", filename);
	fd1 = open(filename, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd1 < 0 || write(fd1, "twolinks", 8) != 8 || link(filename, link2)) {
		pr_perror("create/link");
		return 1;
	}
	fd2 = open(link2, O_RDWR);
	if (fd2 < 0 || unlink(filename) || unlink(link2)) {
		pr_perror("open/unlink");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (fstat(fd1, &s1) || fstat(fd2, &s2) || s1.st_ino != s2.st_ino || s1.st_nlink || s2.st_nlink) {
		fail("not one unlinked inode: %lu/%lu, nlink %lu/%lu", (unsigned long)s1.st_ino, (unsigned long)s2.st_ino,
		     (unsigned long)s1.st_nlink, (unsigned long)s2.st_nlink);
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	if (pwrite(fd1, "TWO", 3, 0) != 3 || pread(fd2, buf, sizeof(buf), 0) != 8 || strcmp(buf, "TWOlinks")) {
		fail("the fds do not share the data: '%s'", buf);
		return 1;
	}
	if (access(filename, F_OK) == 0 || access(link2, F_OK) == 0) {
		fail("a link is back after C/R");
		return 1;
	}
	pass();
	return 0;
}
