#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that the current working directory survives C/R";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "directory to chdir into", 1);

#define MARKER "cwd00.marker"

int main(int argc, char **argv)
{
	char cwd_before[PATH_MAX], cwd_after[PATH_MAX], link_before[PATH_MAX], link_after[PATH_MAX];
	struct stat st_before, st_after, st_marker;
	ssize_t n;
	int fd;

	test_init(argc, argv);

	if (mkdir(dirname, 0700)) {
		pr_perror("mkdir(%s)", dirname);
		return 1;
	}
	if (chdir(dirname)) {
		pr_perror("chdir(%s)", dirname);
		return 1;
	}
	fd = open(MARKER, O_CREAT | O_EXCL | O_WRONLY, 0600);
	if (fd < 0) {
		pr_perror("create %s", MARKER);
		return 1;
	}
	close(fd);

	if (!getcwd(cwd_before, sizeof(cwd_before))) {
		pr_perror("getcwd");
		return 1;
	}
	n = readlink("/proc/self/cwd", link_before, sizeof(link_before) - 1);
	if (n < 0) {
		pr_perror("readlink(/proc/self/cwd)");
		return 1;
	}
	link_before[n] = '\0';
	if (stat(".", &st_before)) {
		pr_perror("stat(.)");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (!getcwd(cwd_after, sizeof(cwd_after))) {
		fail("getcwd");
		return 1;
	}
	if (strcmp(cwd_before, cwd_after)) {
		fail("cwd was %s, now %s", cwd_before, cwd_after);
		return 1;
	}
	n = readlink("/proc/self/cwd", link_after, sizeof(link_after) - 1);
	if (n < 0) {
		fail("readlink(/proc/self/cwd)");
		return 1;
	}
	link_after[n] = '\0';
	if (strcmp(link_before, link_after)) {
		fail("/proc/self/cwd was %s, now %s", link_before, link_after);
		return 1;
	}
	if (stat(".", &st_after)) {
		fail("stat(.)");
		return 1;
	}
	if (st_before.st_dev != st_after.st_dev || st_before.st_ino != st_after.st_ino) {
		fail("cwd is another directory: dev/ino %lx/%lu before, %lx/%lu after", (long)st_before.st_dev,
		     (unsigned long)st_before.st_ino, (long)st_after.st_dev, (unsigned long)st_after.st_ino);
		return 1;
	}
	/* A relative lookup must resolve in the same directory */
	if (stat(MARKER, &st_marker)) {
		fail("%s is not reachable relative to the cwd", MARKER);
		return 1;
	}

	unlink(MARKER);
	if (chdir("..") == 0)
		rmdir(dirname);

	pass();
	return 0;
}
