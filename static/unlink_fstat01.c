#include <fcntl.h>
#include <sys/stat.h>

#include "zdtmtst.h"

/* unlink_fstat01+ is this program with -DUNLINK_OVER: a new file takes the unlinked one's name */
#ifdef UNLINK_OVER
const char *test_doc = "An open file unlinked and a new file made under its name (also open): after C/R the old "
		       "fd is still of the unlinked file (its data, no links), the new one of the new file";
#else
const char *test_doc = "An open file unlinked, opened twice (two descriptions, two offsets): after C/R both fds "
		       "are of one unlinked inode with its data, each at its offset";
#endif
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

int main(int argc, char **argv)
{
	struct stat s1, s2;
	char buf[32];
	int fd1, fd2;

	test_init(argc, argv);

	fd1 = open(filename, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd1 < 0 || write(fd1, "the old file", 12) != 12) {
		pr_perror("create");
		return 1;
	}
#ifdef UNLINK_OVER
	if (unlink(filename)) {
		pr_perror("unlink");
		return 1;
	}
	fd2 = open(filename, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fd2 < 0 || write(fd2, "NEW", 3) != 3) {
		pr_perror("create the new file");
		return 1;
	}
#else
	fd2 = open(filename, O_RDONLY);
	if (fd2 < 0 || lseek(fd2, 4, SEEK_SET) != 4 || unlink(filename)) {
		pr_perror("second open/unlink");
		return 1;
	}
#endif

	test_daemon();
	test_waitsig();

	if (fstat(fd1, &s1) || fstat(fd2, &s2) || s1.st_nlink != 0 || s1.st_size != 12) {
		fail("the old file: nlink %lu size %ld", (unsigned long)s1.st_nlink, (long)s1.st_size);
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	if (pread(fd1, buf, sizeof(buf), 0) != 12 || strcmp(buf, "the old file")) {
		fail("the old file's data: '%s'", buf);
		return 1;
	}
#ifdef UNLINK_OVER
	if (s2.st_nlink != 1 || s2.st_ino == s1.st_ino || s2.st_size != 3) {
		fail("the new file: nlink %lu size %ld, same inode %d", (unsigned long)s2.st_nlink, (long)s2.st_size,
		     s2.st_ino == s1.st_ino);
		return 1;
	}
	if (stat(filename, &s1) || s1.st_ino != s2.st_ino) {
		fail("the name is not the new file's");
		return 1;
	}
#else
	if (s2.st_ino != s1.st_ino || lseek(fd2, 0, SEEK_CUR) != 4 || lseek(fd1, 0, SEEK_CUR) != 12) {
		fail("the two fds: same inode %d, offsets %ld %ld", s2.st_ino == s1.st_ino, (long)lseek(fd1, 0, SEEK_CUR),
		     (long)lseek(fd2, 0, SEEK_CUR));
		return 1;
	}
	if (access(filename, F_OK) == 0) {
		fail("%s exists after C/R", filename);
		return 1;
	}
#endif
	pass();
	return 0;
}
