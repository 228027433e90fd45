#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "zdtmtst.h"
#include "mnt_info.h"

const char *test_doc = "A subdirectory of the test's directory bind-mounted on another: after C/R the bind is there "
		       "(its root the source's path), a file made through one name is seen through the other, "
		       "and an fd opened through the bind is on the bind";
const char *test_author = "Stasis developers";

char *dirname;
TEST_OPTION(dirname, string, "directory name", 1);

int main(int argc, char **argv)
{
	char src[4096], dst[4096], f1[8192], f2[8192], buf[16];
	struct mnt_info mi, src_mi;
	struct stat s1, s2;
	int fd;

	test_init(argc, argv);

	snprintf(src, sizeof(src), "%s/src", dirname);
	snprintf(dst, sizeof(dst), "%s/dst", dirname);
	snprintf(f1, sizeof(f1), "%s/before", src);
	if (mkdir(dirname, 0755) || mkdir(src, 0755) || mkdir(dst, 0755) || mount(src, dst, NULL, MS_BIND, NULL)) {
		pr_perror("bind %s on %s", src, dst);
		return 1;
	}
	snprintf(f2, sizeof(f2), "%s/before", dst);
	fd = open(f2, O_RDWR | O_CREAT, 0644);
	if (fd < 0 || write(fd, "bound", 5) != 5 || mnt_info_at(dst, &src_mi)) {
		pr_perror("open through the bind");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (mnt_info_at(dst, &mi) || strcmp(mi.root, src_mi.root) || strcmp(mi.fstype, src_mi.fstype)) {
		fail("no bind on %s after C/R (root '%s', was '%s')", dst, mi.root, src_mi.root);
		return 1;
	}
	if (stat(f1, &s1) || fstat(fd, &s2) || s1.st_ino != s2.st_ino) {
		fail("the file made through the bind is not the source's");
		return 1;
	}
	snprintf(f1, sizeof(f1), "%s/after", src);
	snprintf(f2, sizeof(f2), "%s/after", dst);
	close(open(f1, O_CREAT | O_WRONLY, 0644));
	if (access(f2, F_OK)) {
		fail("a file made in the source after C/R is not seen through the bind");
		return 1;
	}
	{
		char link[64], path[4096];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, path, sizeof(path) - 1);
		if (n < 0 || (path[n] = 0, !strstr(path, "/dst/before"))) {
			fail("the fd is not on the bind: %s", n < 0 ? "?" : path);
			return 1;
		}
	}
	memset(buf, 0, sizeof(buf));
	if (pread(fd, buf, sizeof(buf), 0) != 5 || strcmp(buf, "bound")) {
		fail("data");
		return 1;
	}
	pass();
	return 0;
}
