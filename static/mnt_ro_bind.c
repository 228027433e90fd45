#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "zdtmtst.h"
#include "mnt_info.h"

const char *test_doc = "A read-only bind mount of a subdirectory of the test's directory (bind, then remount "
		       "MS_RDONLY): after C/R it is still read-only (writes get EROFS) while the source is "
		       "writable, and an fd opened read-only through it still reads";
const char *test_author = "Stasis developers";

char *dirname;
TEST_OPTION(dirname, string, "directory name", 1);

int main(int argc, char **argv)
{
	char src[4096], dst[4096], f[8192], buf[16];
	struct mnt_info mi;
	struct statvfs sv;
	int fd;

	test_init(argc, argv);

	snprintf(src, sizeof(src), "%s/src", dirname);
	snprintf(dst, sizeof(dst), "%s/ro", dirname);
	snprintf(f, sizeof(f), "%s/data", src);
	if (mkdir(dirname, 0755) || mkdir(src, 0755) || mkdir(dst, 0755)) {
		pr_perror("mkdir");
		return 1;
	}
	fd = open(f, O_CREAT | O_WRONLY, 0644);
	if (fd < 0 || write(fd, "readonly", 8) != 8 || close(fd) || mount(src, dst, NULL, MS_BIND, NULL) ||
	    mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL)) {
		pr_perror("ro bind");
		return 1;
	}
	snprintf(f, sizeof(f), "%s/data", dst);
	fd = open(f, O_RDONLY);
	if (fd < 0) {
		pr_perror("open through the ro bind");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (mnt_info_at(dst, &mi) || !mnt_has_opt(mi.opts, "ro")) {
		fail("%s is not a read-only mount after C/R ('%s')", dst, mi.opts);
		return 1;
	}
	if (statvfs(dst, &sv) || !(sv.f_flag & ST_RDONLY)) {
		fail("statvfs: not read-only");
		return 1;
	}
	errno = 0;
	if (open(f, O_WRONLY) >= 0 || errno != EROFS) {
		fail("a write open through the ro bind did not get EROFS");
		return 1;
	}
	snprintf(f, sizeof(f), "%s/data", src);
	if (mnt_info_at(src, &mi) == 0 && mnt_has_opt(mi.opts, "ro")) {
		fail("the source became a read-only mount");
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	if (pread(fd, buf, sizeof(buf), 0) != 8 || strcmp(buf, "readonly")) {
		fail("the fd through the ro bind reads '%s'", buf);
		return 1;
	}
	pass();
	return 0;
}
