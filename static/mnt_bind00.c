#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "Bind mounts the test makes of a tmpfs of its own: the whole tmpfs on a second "
		       "directory, one of its subdirectories on a third, one of its files on a file: after C/R "
		       "each bind shows the same inode as its source and a file written through one is read "
		       "through the others";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "work directory", 1);

struct pt {
	const char *src, *dst;
} binds[] = {
	{ "tmpfs", "whole" },
	{ "tmpfs/sub", "part" },
	{ "tmpfs/file", "single" },
};

static int same(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) || stat(b, &sb))
		return pr_perror("stat %s %s", a, b);
	if (sa.st_dev != sb.st_dev || sa.st_ino != sb.st_ino) {
		pr_err("%s and %s are different files\n", a, b);
		return -1;
	}
	return 0;
}

static int put(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd))
		return pr_perror("write %s", path);
	return 0;
}

static int get(const char *path, const char *text)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n < 0 || (buf[n] = 0, strcmp(buf, text))) {
		pr_err("%s does not hold \"%s\"\n", path, text);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned i;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) || chdir(dirname) || mkdir("tmpfs", 0755) ||
	    mount("zdtm_mnt_bind00", "tmpfs", "tmpfs", 0, NULL) || mkdir("tmpfs/sub", 0755) ||
	    put("tmpfs/file", "first") || put("tmpfs/sub/inner", "inner") || mkdir("whole", 0755) ||
	    mkdir("part", 0755) || put("single", "")) {
		pr_perror("prepare");
		return 1;
	}
	for (i = 0; i < sizeof(binds) / sizeof(binds[0]); i++)
		if (mount(binds[i].src, binds[i].dst, NULL, MS_BIND, NULL)) {
			pr_perror("bind %s on %s", binds[i].src, binds[i].dst);
			return 1;
		}

	test_daemon();
	test_waitsig();

	for (i = 0; i < sizeof(binds) / sizeof(binds[0]); i++)
		if (same(binds[i].src, binds[i].dst)) {
			fail("bind %s on %s after C/R", binds[i].src, binds[i].dst);
			return 1;
		}
	if (get("part/inner", "inner") || get("whole/sub/inner", "inner") || get("single", "first")) {
		fail("content after C/R");
		return 1;
	}
	if (put("single", "second") || get("tmpfs/file", "second") || get("whole/file", "second") ||
	    put("whole/sub/x", "x") || get("part/x", "x")) {
		fail("the binds do not share their files after C/R");
		return 1;
	}
	pass();
	return 0;
}
