#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "Files of a tmpfs the test mounts, in use across C/R: a file open read-write at an "
		       "offset, a directory fd, a shared mapping of a file (written through the mapping): after "
		       "C/R the fd goes on at its offset, openat() through the directory fd works, and the mapping "
		       "and the file show each other's writes";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "mount point", 1);

#define TEXT "0123456789abcdef"

int main(int argc, char **argv)
{
	char path[PATH_MAX], buf[32];
	int fd, dfd, mfd, x;
	char *map;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) || mount("zdtm_mnt_open00", dirname, "tmpfs", 0, NULL)) {
		pr_perror("mount");
		return 1;
	}
	ssprintf(path, "%s/data", dirname);
	fd = open(path, O_CREAT | O_RDWR, 0644);
	if (fd < 0 || write(fd, TEXT, 16) != 16 || lseek(fd, 5, SEEK_SET) != 5) {
		pr_perror("data");
		return 1;
	}
	dfd = open(dirname, O_RDONLY | O_DIRECTORY);
	ssprintf(path, "%s/mapped", dirname);
	mfd = open(path, O_CREAT | O_RDWR, 0600);
	if (dfd < 0 || mfd < 0 || ftruncate(mfd, 4096)) {
		pr_perror("dir/mapped");
		return 1;
	}
	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (map == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	close(mfd);
	strcpy(map, "before");

	test_daemon();
	test_waitsig();

	if (read(fd, buf, 4) != 4 || memcmp(buf, "5678", 4)) {
		fail("the data fd after C/R is not at its offset");
		return 1;
	}
	x = openat(dfd, "data", O_RDONLY);
	if (x < 0 || read(x, buf, 16) != 16 || memcmp(buf, TEXT, 16)) {
		fail("openat through the directory fd after C/R");
		return 1;
	}
	close(x);
	if (strcmp(map, "before")) {
		fail("the mapping holds \"%.8s\" after C/R", map);
		return 1;
	}
	strcpy(map, "after!");
	x = openat(dfd, "mapped", O_RDONLY);
	if (x < 0 || read(x, buf, 7) != 7 || strcmp(buf, "after!")) {
		fail("the mapping is not the file's after C/R");
		return 1;
	}
	close(x);
	pass();
	return 0;
}
