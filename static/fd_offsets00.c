#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that file offsets and open flags of regular files survive C/R and I/O continues there";
const char *test_author = "Stasis developers";

static char *filename;
TEST_OPTION(filename, string, "base name of the test files", 1);

#define FILE_SIZE 65536

static unsigned char pattern(int file, off_t off)
{
	return (unsigned char)(off * 31 + (off >> 8) + file * 101);
}

static int create_file(const char *path, int file)
{
	unsigned char buf[FILE_SIZE];
	int fd, i;

	for (i = 0; i < FILE_SIZE; i++)
		buf[i] = pattern(file, i);
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	if (fd < 0)
		return pr_perror("create %s", path);
	if (write(fd, buf, FILE_SIZE) != FILE_SIZE)
		return pr_perror("write %s", path);
	close(fd);
	return 0;
}

struct tfd {
	int file;	/* 0: file A, 1: file B */
	int flags;	/* open flags */
	off_t off;	/* offset set before C/R */
	int fd;
	int fl;		/* F_GETFL before C/R */
	struct stat st;
};

static struct tfd fds[] = {
	{ 0, O_RDONLY, 100 },
	{ 0, O_RDONLY | O_NOATIME, 40000 },
	{ 1, O_WRONLY, 5000 },
	{ 0, O_RDWR | O_DSYNC, 20000 },
	{ 1, O_RDWR | O_NONBLOCK, 70000 },	/* beyond the end of file */
	{ 0, O_RDONLY, FILE_SIZE },		/* at the end of file */
};

int main(int argc, char **argv)
{
	char path[2][4096];
	unsigned char buf[64];
	struct stat st;
	size_t i;
	int j, check;

	test_init(argc, argv);

	ssprintf(path[0], "%s", filename);
	ssprintf(path[1], "%s.b", filename);
	if (create_file(path[0], 0) || create_file(path[1], 1))
		return 1;

	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		struct tfd *t = &fds[i];

		t->fd = open(path[t->file], t->flags);
		if (t->fd < 0)
			return pr_perror("open %s", path[t->file]);
		if (lseek(t->fd, t->off, SEEK_SET) != t->off)
			return pr_perror("lseek");
		t->fl = fcntl(t->fd, F_GETFL);
		if (t->fl < 0 || fstat(t->fd, &t->st))
			return pr_perror("F_GETFL/fstat");
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		struct tfd *t = &fds[i];
		off_t off;
		int fl;

		off = lseek(t->fd, 0, SEEK_CUR);
		if (off != t->off) {
			fail("fd %d: offset %lld, expected %lld", t->fd, (long long)off, (long long)t->off);
			return 1;
		}
		fl = fcntl(t->fd, F_GETFL);
		if (fl != t->fl) {
			fail("fd %d: flags %#o, expected %#o", t->fd, fl, t->fl);
			return 1;
		}
		if (fstat(t->fd, &st) || st.st_ino != t->st.st_ino || st.st_dev != t->st.st_dev) {
			fail("fd %d: is not the same file any more", t->fd);
			return 1;
		}
	}

	/* Reads continue from the restored offsets */
	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		struct tfd *t = &fds[i];

		if ((t->flags & O_ACCMODE) == O_WRONLY || t->off >= FILE_SIZE)
			continue;
		if (read(t->fd, buf, sizeof(buf)) != sizeof(buf)) {
			fail("fd %d: short read at %lld", t->fd, (long long)t->off);
			return 1;
		}
		for (j = 0; j < (int)sizeof(buf); j++)
			if (buf[j] != pattern(t->file, t->off + j)) {
				fail("fd %d: wrong data at %lld", t->fd, (long long)(t->off + j));
				return 1;
			}
		if (lseek(t->fd, 0, SEEK_CUR) != t->off + (off_t)sizeof(buf)) {
			fail("fd %d: the read did not advance the offset", t->fd);
			return 1;
		}
	}
	if (read(fds[5].fd, buf, sizeof(buf)) != 0) {
		fail("fd %d: reading at the end of file returned data", fds[5].fd);
		return 1;
	}

	/* Writes land at the restored offsets */
	if (write(fds[2].fd, "OFFSET02", 8) != 8 || write(fds[4].fd, "X", 1) != 1) {
		fail("write");
		return 1;
	}
	check = open(path[1], O_RDONLY);
	if (check < 0 || pread(check, buf, 8, 5000) != 8 || memcmp(buf, "OFFSET02", 8)) {
		fail("the write through fd %d did not land at offset 5000", fds[2].fd);
		return 1;
	}
	if (fstat(check, &st) || st.st_size != 70001) {
		fail("%s has size %lld, expected 70001", path[1], (long long)st.st_size);
		return 1;
	}
	if (pread(check, buf, 2, 69999) != 2 || buf[0] != 0 || buf[1] != 'X') {
		fail("the write through fd %d did not land at offset 70000", fds[4].fd);
		return 1;
	}
	close(check);

	unlink(path[0]);
	unlink(path[1]);
	pass();
	return 0;
}
