#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "zdtmtst.h"

const char *test_doc = "A tmpfs the test mounts (size and mode options) holding a file with content, a "
		       "directory with mode 0710, a symlink, a hard link, a FIFO and an empty file owned by "
		       "another uid: after C/R the mount (its options) and every entry with its type, mode, "
		       "owner and content are there";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "mount point", 1);

#define TEXT "the content of a file in a tmpfs of the test's own\n"

static int check_file(const char *path, const char *text, mode_t mode)
{
	char buf[256];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st))
		return pr_perror("open %s", path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0 || (buf[n] = 0, strcmp(buf, text)) || (st.st_mode & 07777) != mode) {
		errno = 0;
		pr_err("%s: %zd bytes, mode %o\n", path, n, st.st_mode & 07777);
		return -1;
	}
	return 0;
}

static int check_opts(void)
{
	char line[1024], pt[PATH_MAX], want[PATH_MAX + 2];
	int found = 0;
	FILE *f;

	if (!realpath(dirname, pt))
		return pr_perror("realpath");
	snprintf(want, sizeof(want), " %s ", pt);
	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return pr_perror("mountinfo");
	while (fgets(line, sizeof(line), f))
		if (strstr(line, want) && strstr(line, " - tmpfs zdtm_mnt_tmpfs00 ") && strstr(line, "size=2048k") &&
		    strstr(line, "mode=750"))
			found++;
	fclose(f);
	if (found != 1) {
		pr_err("%d tmpfs mounts with size=2048k,mode=750 at %s\n", found, pt);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char p[PATH_MAX], q[PATH_MAX], lnk[PATH_MAX];
	struct stat st, parent;
	ssize_t n;
	int fd;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) || stat(".", &parent)) {
		pr_perror("mkdir %s", dirname);
		return 1;
	}
	if (mount("zdtm_mnt_tmpfs00", dirname, "tmpfs", MS_NOSUID, "size=2m,mode=0750")) {
		pr_perror("mount tmpfs");
		return 1;
	}
	ssprintf(p, "%s/file", dirname);
	fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0640);
	if (fd < 0 || write(fd, TEXT, strlen(TEXT)) != (ssize_t)strlen(TEXT) || close(fd)) {
		pr_perror("create %s", p);
		return 1;
	}
	ssprintf(q, "%s/dir", dirname);
	if (mkdir(q, 0710)) {
		pr_perror("mkdir %s", q);
		return 1;
	}
	ssprintf(q, "%s/dir/hard", dirname);
	if (link(p, q)) {
		pr_perror("link");
		return 1;
	}
	ssprintf(q, "%s/sym", dirname);
	if (symlink("dir/hard", q)) {
		pr_perror("symlink");
		return 1;
	}
	ssprintf(q, "%s/fifo", dirname);
	if (mkfifo(q, 0604)) {
		pr_perror("mkfifo");
		return 1;
	}
	ssprintf(q, "%s/owned", dirname);
	fd = open(q, O_CREAT | O_EXCL | O_WRONLY, 0600);
	if (fd < 0 || fchown(fd, 4321, 8765) || close(fd)) {
		pr_perror("create %s", q);
		return 1;
	}
	if (check_opts())
		return 1;

	test_daemon();
	test_waitsig();

	if (check_opts()) {
		fail("the tmpfs is not mounted as it was after C/R");
		return 1;
	}
	if (stat(dirname, &st) || st.st_dev == parent.st_dev || (st.st_mode & 07777) != 0750) {
		fail("%s after C/R: not the tmpfs root (mode %o)", dirname, st.st_mode & 07777);
		return 1;
	}
	if (check_file(p, TEXT, 0640)) {
		fail("the file");
		return 1;
	}
	ssprintf(q, "%s/dir", dirname);
	if (stat(q, &st) || !S_ISDIR(st.st_mode) || (st.st_mode & 07777) != 0710) {
		fail("the directory");
		return 1;
	}
	ssprintf(q, "%s/dir/hard", dirname);
	if (stat(q, &st) || st.st_nlink != 2) {
		fail("the hard link (%d links)", (int)st.st_nlink);
		return 1;
	}
	ssprintf(q, "%s/sym", dirname);
	n = readlink(q, lnk, sizeof(lnk) - 1);
	if (n < 0 || (lnk[n] = 0, strcmp(lnk, "dir/hard")) || check_file(q, TEXT, 0640)) {
		fail("the symlink");
		return 1;
	}
	ssprintf(q, "%s/fifo", dirname);
	if (stat(q, &st) || !S_ISFIFO(st.st_mode) || (st.st_mode & 07777) != 0604) {
		fail("the FIFO");
		return 1;
	}
	ssprintf(q, "%s/owned", dirname);
	if (stat(q, &st) || st.st_uid != 4321 || st.st_gid != 8765) {
		fail("the owner of %s: %d:%d", q, (int)st.st_uid, (int)st.st_gid);
		return 1;
	}
	pass();
	return 0;
}
