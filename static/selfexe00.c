#include <fcntl.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "The test's executable: after C/R /proc/self/exe names the same file (path, inode), an fd "
		       "opened on it before is still of it, and its text mapping is of that file";
const char *test_author = "Stasis developers";

static int exe(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

int main(int argc, char **argv)
{
	char before[4096], after[4096], line[8192];
	struct stat s1, s2, s3;
	int fd, mapped = 0;
	FILE *f;

	test_init(argc, argv);

	if (exe(before, sizeof(before)) || stat("/proc/self/exe", &s1) || (fd = open("/proc/self/exe", O_RDONLY)) < 0) {
		pr_perror("exe");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (exe(after, sizeof(after)) || strcmp(before, after)) {
		fail("/proc/self/exe is '%s' after C/R, was '%s'", after, before);
		return 1;
	}
	if (stat("/proc/self/exe", &s2) || fstat(fd, &s3) || s1.st_ino != s2.st_ino || s1.st_dev != s2.st_dev ||
	    s3.st_ino != s1.st_ino) {
		fail("the executable's inode changed");
		return 1;
	}
	f = fopen("/proc/self/maps", "r");
	if (!f) {
		fail("maps");
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/');

		if (strstr(line, " r-xp ") && path && (path[strlen(path) - 1] = 0, !strcmp(path, before)))
			mapped = 1;
	}
	fclose(f);
	if (!mapped) {
		fail("no executable mapping of %s after C/R", before);
		return 1;
	}
	pass();
	return 0;
}
