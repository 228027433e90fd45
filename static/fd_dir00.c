#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that an O_DIRECTORY descriptor survives C/R and *at() calls relative to it still work";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "directory to open", 1);

#define INNER "inner.txt"
#define CONTENT "content of the inner file"

int main(int argc, char **argv)
{
	char link_before[PATH_MAX], link_after[PATH_MAX], path[PATH_MAX + 64], buf[128];
	struct stat st_before, st, st_path;
	int dfd, fd, fl;
	ssize_t n;

	test_init(argc, argv);

	if (mkdir(dirname, 0700))
		return pr_perror("mkdir %s", dirname);
	ssprintf(path, "%s/%s", dirname, INNER);
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	if (fd < 0 || write(fd, CONTENT, strlen(CONTENT)) != (ssize_t)strlen(CONTENT))
		return pr_perror("create %s", path);
	close(fd);

	dfd = open(dirname, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return pr_perror("open %s", dirname);
	if (fstat(dfd, &st_before))
		return pr_perror("fstat");
	fl = fcntl(dfd, F_GETFL);
	ssprintf(path, "/proc/self/fd/%d", dfd);
	n = readlink(path, link_before, sizeof(link_before) - 1);
	if (n < 0)
		return pr_perror("readlink %s", path);
	link_before[n] = '\0';

	test_daemon();
	test_waitsig();

	if (fstat(dfd, &st) || !S_ISDIR(st.st_mode) || st.st_ino != st_before.st_ino || st.st_dev != st_before.st_dev) {
		fail("fd %d is not the test directory any more", dfd);
		return 1;
	}
	if (fcntl(dfd, F_GETFL) != fl) {
		fail("flags %#o, expected %#o", fcntl(dfd, F_GETFL), fl);
		return 1;
	}
	n = readlink(path, link_after, sizeof(link_after) - 1);
	if (n < 0) {
		fail("readlink %s", path);
		return 1;
	}
	link_after[n] = '\0';
	if (strcmp(link_before, link_after)) {
		fail("fd %d pointed to %s, now to %s", dfd, link_before, link_after);
		return 1;
	}

	fd = openat(dfd, INNER, O_RDONLY);
	if (fd < 0) {
		fail("openat(%d, %s)", dfd, INNER);
		return 1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0 || (buf[n] = '\0', strcmp(buf, CONTENT))) {
		fail("%s read through the directory fd has wrong content", INNER);
		return 1;
	}

	/* Something created relative to the fd appears in the directory by path */
	if (mkdirat(dfd, "sub", 0700)) {
		fail("mkdirat");
		return 1;
	}
	ssprintf(path, "%s/sub", dirname);
	if (stat(path, &st_path) || !S_ISDIR(st_path.st_mode)) {
		fail("%s made with mkdirat is not there", path);
		return 1;
	}

	unlinkat(dfd, "sub", AT_REMOVEDIR);
	unlinkat(dfd, INNER, 0);
	close(dfd);
	rmdir(dirname);
	pass();
	return 0;
}
