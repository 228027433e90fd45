#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that O_PATH descriptors (a file, a symlink with O_NOFOLLOW, a directory) survive C/R";
const char *test_author = "Stasis developers";

static char *filename;
TEST_OPTION(filename, string, "file to open with O_PATH", 1);

#define CONTENT "o_path test content"

struct tfd {
	int fd;
	int fl;
	struct stat st;
};

static int record(struct tfd *t, int fd)
{
	t->fd = fd;
	if (fd < 0)
		return pr_perror("open O_PATH");
	t->fl = fcntl(fd, F_GETFL);
	if (t->fl < 0 || !(t->fl & O_PATH))
		return pr_perror("fd %d: F_GETFL %#o has no O_PATH", fd, t->fl);
	if (fstatat(fd, "", &t->st, AT_EMPTY_PATH))
		return pr_perror("fstatat %d", fd);
	return 0;
}

int main(int argc, char **argv)
{
	char lnk[PATH_MAX], target[PATH_MAX], path[64], buf[64];
	struct tfd fds[3];
	struct stat st;
	ssize_t n;
	int i, fd;

	test_init(argc, argv);

	fd = open(filename, O_CREAT | O_EXCL | O_WRONLY, 0600);
	if (fd < 0 || write(fd, CONTENT, strlen(CONTENT)) != (ssize_t)strlen(CONTENT))
		return pr_perror("create %s", filename);
	close(fd);
	ssprintf(lnk, "%s.lnk", filename);
	if (symlink(filename, lnk))
		return pr_perror("symlink %s", lnk);

	if (record(&fds[0], open(filename, O_PATH)) || record(&fds[1], open(lnk, O_PATH | O_NOFOLLOW)) ||
	    record(&fds[2], open(".", O_PATH | O_DIRECTORY)))
		return 1;
	if (!S_ISREG(fds[0].st.st_mode) || !S_ISLNK(fds[1].st.st_mode) || !S_ISDIR(fds[2].st.st_mode)) {
		pr_err("O_PATH descriptors do not refer to a file, a symlink and a directory\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < 3; i++) {
		int fl = fcntl(fds[i].fd, F_GETFL);

		if (fl != fds[i].fl) {
			fail("fd %d: flags %#o, expected %#o", fds[i].fd, fl, fds[i].fl);
			return 1;
		}
		if (fstatat(fds[i].fd, "", &st, AT_EMPTY_PATH) || st.st_ino != fds[i].st.st_ino ||
		    st.st_dev != fds[i].st.st_dev || (st.st_mode & S_IFMT) != (fds[i].st.st_mode & S_IFMT)) {
			fail("fd %d does not refer to the same object", fds[i].fd);
			return 1;
		}
	}

	/* Still a path-only descriptor: no I/O through it */
	if (read(fds[0].fd, buf, sizeof(buf)) != -1 || errno != EBADF) {
		fail("read through the O_PATH fd %d did not fail with EBADF", fds[0].fd);
		return 1;
	}
	/* But it can be reopened through /proc */
	ssprintf(path, "/proc/self/fd/%d", fds[0].fd);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fail("reopen %s", path);
		return 1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0 || (buf[n] = '\0', strcmp(buf, CONTENT))) {
		fail("content read through %s is wrong", path);
		return 1;
	}
	/* The symlink descriptor is the link itself */
	n = readlinkat(fds[1].fd, "", target, sizeof(target) - 1);
	if (n < 0) {
		fail("readlinkat(%d, \"\")", fds[1].fd);
		return 1;
	}
	target[n] = '\0';
	if (strcmp(target, filename)) {
		fail("the symlink points to %s, expected %s", target, filename);
		return 1;
	}
	/* And the directory one still resolves relative names */
	fd = openat(fds[2].fd, filename, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) || st.st_ino != fds[0].st.st_ino) {
		fail("openat(%d, %s) does not reach the test file", fds[2].fd, filename);
		return 1;
	}
	close(fd);

	unlink(lnk);
	unlink(filename);
	pass();
	return 0;
}
