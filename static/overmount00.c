#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "A file opened in a directory that is then overmounted by a tmpfs holding a file of the "
		       "same name: the fd still reads the original file (content, st_dev, st_ino) and the path "
		       "still resolves to the tmpfs one";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "directory to overmount", 1);

#define ORIG "the original file, under the mount\n"
#define OVER "the tmpfs file over it\n"

static int read_all(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

int main(int argc, char **argv)
{
	char path[PATH_MAX], buf[256];
	struct stat st_orig, st_over, st;
	int fd = -1, fd2, mounted = 0, ret = 1;

	test_init(argc, argv);

	ssprintf(path, "%s/file", dirname);
	if (mkdir(dirname, 0755)) {
		pr_perror("mkdir %s", dirname);
		return 1;
	}
	fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0644);
	if (fd < 0 || write(fd, ORIG, strlen(ORIG)) != strlen(ORIG) || fstat(fd, &st_orig)) {
		pr_perror("create %s", path);
		goto out;
	}
	if (mount("zdtm_overmount", dirname, "tmpfs", 0, "size=1m")) {
		pr_perror("mount tmpfs on %s", dirname);
		goto out;
	}
	mounted = 1;
	fd2 = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
	if (fd2 < 0 || write(fd2, OVER, strlen(OVER)) != strlen(OVER) || fstat(fd2, &st_over)) {
		pr_perror("create %s in the tmpfs", path);
		goto out;
	}
	close(fd2);
	if (st_over.st_dev == st_orig.st_dev) {
		pr_err("the tmpfs has the device of the directory under it\n");
		goto out;
	}

	test_daemon();
	test_waitsig();

	if (fstat(fd, &st)) {
		fail("fstat");
		goto out;
	}
	if (st.st_dev != st_orig.st_dev || st.st_ino != st_orig.st_ino) {
		errno = 0;
		fail("the fd is dev %#lx ino %lu after C/R, the original file is dev %#lx ino %lu (the tmpfs one: "
		     "dev %#lx ino %lu)", (long)st.st_dev, (long)st.st_ino, (long)st_orig.st_dev,
		     (long)st_orig.st_ino, (long)st_over.st_dev, (long)st_over.st_ino);
		goto out;
	}
	if (read_all(fd, buf, sizeof(buf)) < 0 || strcmp(buf, ORIG)) {
		fail("the fd reads \"%s\" after C/R, expected the original content", buf);
		goto out;
	}
	/* the overmount is still there */
	if (stat(path, &st) || st.st_dev != st_over.st_dev || st.st_ino != st_over.st_ino) {
		fail("%s is not the tmpfs file after C/R (the overmount is gone)", path);
		goto out;
	}
	fd2 = open(path, O_RDONLY);
	if (fd2 < 0 || read_all(fd2, buf, sizeof(buf)) < 0 || strcmp(buf, OVER)) {
		fail("the tmpfs file reads \"%s\" after C/R", fd2 < 0 ? "" : buf);
		goto out;
	}
	close(fd2);
	pass();
	ret = 0;
out:
	if (mounted) {
		char over[PATH_MAX];

		ssprintf(over, "%s/file", dirname);
		unlink(over);
		if (umount2(dirname, MNT_DETACH))
			pr_perror("umount %s", dirname);
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	rmdir(dirname);
	return ret;
}
