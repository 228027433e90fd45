#include <fcntl.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "Two hard links of one file, each opened: after C/R both fds are of the same inode with two "
		       "links, each fd's path is its own link's, and a write through one is read through the other";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

static int path_of(int fd, char *buf, size_t len)
{
	char p[64];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, buf, len - 1);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

int main(int argc, char **argv)
{
	char link2[4096], p1[4096], p2[4096], q1[4096], q2[4096], buf[8];
	struct stat s1, s2;
	int fd1, fd2;

	test_init(argc, argv);

	snprintf(link2, sizeof(link2), "%s.link", filename);
	fd1 = open(filename, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd1 < 0 || link(filename, link2)) {
		pr_perror("create/link");
		return 1;
	}
	fd2 = open(link2, O_RDWR);
	if (fd2 < 0 || path_of(fd1, p1, sizeof(p1)) || path_of(fd2, p2, sizeof(p2))) {
		pr_perror("open link");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (fstat(fd1, &s1) || fstat(fd2, &s2) || s1.st_ino != s2.st_ino || s1.st_dev != s2.st_dev ||
	    s1.st_nlink != 2) {
		fail("the fds are not of one inode with 2 links (%lu %lu, nlink %lu)", (unsigned long)s1.st_ino,
		     (unsigned long)s2.st_ino, (unsigned long)s1.st_nlink);
		return 1;
	}
	if (path_of(fd1, q1, sizeof(q1)) || path_of(fd2, q2, sizeof(q2)) || strcmp(p1, q1) || strcmp(p2, q2)) {
		fail("paths '%s' '%s' after C/R, were '%s' '%s'", q1, q2, p1, p2);
		return 1;
	}
	if (pwrite(fd1, "link", 4, 0) != 4 || pread(fd2, buf, 4, 0) != 4 || memcmp(buf, "link", 4)) {
		fail("a write through one link is not seen through the other");
		return 1;
	}
	pass();
	return 0;
}
