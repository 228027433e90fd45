#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that O_APPEND survives C/R: a write after restore goes to the end of file, whatever the offset";
const char *test_author = "Stasis developers";

static char *filename;
TEST_OPTION(filename, string, "file to append to", 1);

#define PART1 "first part written before the dump|"
#define PART2 "second part, written after the restore"

int main(int argc, char **argv)
{
	char buf[256];
	struct stat st;
	int fd, rfd, fl;
	off_t off;
	ssize_t n;

	test_init(argc, argv);

	fd = open(filename, O_WRONLY | O_APPEND | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return pr_perror("open %s", filename);
	if (write(fd, PART1, strlen(PART1)) != (ssize_t)strlen(PART1))
		return pr_perror("write");
	/* Move the offset away from the end: an O_APPEND write must ignore it */
	if (lseek(fd, 3, SEEK_SET) != 3)
		return pr_perror("lseek");
	rfd = open(filename, O_RDONLY);
	if (rfd < 0)
		return pr_perror("open %s for reading", filename);
	fl = fcntl(fd, F_GETFL);

	test_daemon();
	test_waitsig();

	if (fcntl(fd, F_GETFL) != fl || !(fl & O_APPEND)) {
		fail("flags are %#o, expected %#o (with O_APPEND)", fcntl(fd, F_GETFL), fl);
		return 1;
	}
	off = lseek(fd, 0, SEEK_CUR);
	if (off != 3) {
		fail("offset is %lld, expected 3", (long long)off);
		return 1;
	}
	if (write(fd, PART2, strlen(PART2)) != (ssize_t)strlen(PART2)) {
		fail("write after C/R");
		return 1;
	}
	off = lseek(fd, 0, SEEK_CUR);
	if (fstat(fd, &st) || st.st_size != (off_t)(strlen(PART1) + strlen(PART2)) || off != st.st_size) {
		fail("after the append: size %lld, offset %lld, expected both %zu", (long long)st.st_size,
		     (long long)off, strlen(PART1) + strlen(PART2));
		return 1;
	}
	n = pread(rfd, buf, sizeof(buf) - 1, 0);
	if (n < 0) {
		fail("pread");
		return 1;
	}
	buf[n] = '\0';
	if (strcmp(buf, PART1 PART2)) {
		fail("file content is '%s', expected '%s'", buf, PART1 PART2);
		return 1;
	}
	/* The reader's offset is its own and was never moved */
	if (lseek(rfd, 0, SEEK_CUR) != 0) {
		fail("the reader's offset moved");
		return 1;
	}

	unlink(filename);
	pass();
	return 0;
}
