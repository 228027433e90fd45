#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "A shared tmpfs with a file, over-mounted by a second tmpfs on the same directory: the "
		       "engine does not rebuild propagation of an over-mounted mount yet, so the dump must be "
		       "refused with the tree left running; afterwards the file appears again once the upper "
		       "tmpfs is unmounted";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "mount point", 1);

int main(int argc, char **argv)
{
	char path[PATH_MAX];
	int fd;

	test_init(argc, argv);

	ssprintf(path, "%s/hidden", dirname);
	if (mkdir(dirname, 0755) || mount("zdtm_mnt_over_lower", dirname, "tmpfs", 0, NULL) ||
	    mount(NULL, dirname, NULL, MS_SHARED, NULL)) {
		pr_perror("mount lower");
		return 1;
	}
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	if (fd < 0 || close(fd) || mount("zdtm_mnt_over_upper", dirname, "tmpfs", 0, NULL)) {
		pr_perror("file/mount upper");
		return 1;
	}
	if (access(path, F_OK) == 0) {
		pr_err("the upper tmpfs does not hide the lower one\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (umount2(dirname, 0) || access(path, F_OK)) {
		fail("the lower tmpfs and its file");
		return 1;
	}
	pass();
	return 0;
}
