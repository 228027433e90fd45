#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "zdtmtst.h"
#include "mnt_info.h"

const char *test_doc = "A tmpfs mounted by the test on its directory with options (size, mode, nosuid, noexec) "
		       "and a file in it held open: after C/R the mount is there with its options, the file with "
		       "its data, the fd on the file in that mount";
const char *test_author = "Stasis developers";

char *dirname;
TEST_OPTION(dirname, string, "directory name", 1);

int main(int argc, char **argv)
{
	struct mnt_info before, after;
	char path[4096], buf[32];
	struct stat st, fst;
	int fd;

	test_init(argc, argv);

	if (mkdir(dirname, 0700) || mount("zdtm_tempfs", dirname, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=1m,mode=0751")) {
		pr_perror("mount tmpfs on %s", dirname);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/file", dirname);
	fd = open(path, O_RDWR | O_CREAT, 0640);
	if (fd < 0 || write(fd, "in tmpfs", 8) != 8 || mnt_info_at(dirname, &before)) {
		pr_perror("file in the tmpfs");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (mnt_info_at(dirname, &after) || strcmp(after.fstype, "tmpfs") || strcmp(after.source, "zdtm_tempfs")) {
		fail("no tmpfs zdtm_tempfs on %s after C/R", dirname);
		return 1;
	}
	if (!mnt_has_opt(after.opts, "nosuid") || !mnt_has_opt(after.opts, "noexec") ||
	    !mnt_has_opt(after.super, "size=1024k") || !mnt_has_opt(after.super, "mode=751")) {
		fail("options '%s' '%s' after C/R, were '%s' '%s'", after.opts, after.super, before.opts, before.super);
		return 1;
	}
	if (stat(dirname, &st) || (st.st_mode & 07777) != 0751) {
		fail("the root of the tmpfs has mode %o", st.st_mode & 07777);
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	if (fstat(fd, &fst) || stat(path, &st) || fst.st_ino != st.st_ino || fst.st_dev != st.st_dev ||
	    pread(fd, buf, sizeof(buf), 0) != 8 || strcmp(buf, "in tmpfs")) {
		fail("the open file in the tmpfs: '%s'", buf);
		return 1;
	}
	pass();
	return 0;
}
