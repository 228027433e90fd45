#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "A deleted file and an unlinked FIFO whose directory was removed too: after C/R the fds "
		       "show their old names as deleted, the file keeps its content and mode, the FIFO its data, "
		       "and the directory is not there again";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "directory", 1);

int main(int argc, char **argv)
{
	char file[PATH_MAX], fifo[PATH_MAX], path[64], link[PATH_MAX], want[3 * PATH_MAX], cwd[PATH_MAX];
	int fd, rw, avail = -1;
	struct stat st;
	char buf[16];
	ssize_t n;

	test_init(argc, argv);

	snprintf(file, sizeof(file), "%s/file", dirname);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dirname);
	if (mkdir(dirname, 0755) || mkfifo(fifo, 0620))
		return pr_perror("mkdir %s", dirname);
	fd = open(file, O_RDWR | O_CREAT | O_EXCL, 0604);
	rw = open(fifo, O_RDWR);
	if (fd < 0 || rw < 0 || write(fd, "contents", 8) != 8 || write(rw, "inflight", 8) != 8)
		return pr_perror("open");
	if (unlink(file) || unlink(fifo) || rmdir(dirname) || !getcwd(cwd, sizeof(cwd)))
		return pr_perror("unlink/rmdir");

	test_daemon();
	test_waitsig();

	ssprintf(path, "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return pr_perror("readlink");
	link[n] = 0;
	snprintf(want, sizeof(want), "%s/%s (deleted)", cwd, file);
	if (strcmp(link, want)) {
		fail("the file's fd shows %s after C/R, expected %s", link, want);
		return 1;
	}
	ssprintf(path, "/proc/self/fd/%d", rw);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return pr_perror("readlink");
	link[n] = 0;
	snprintf(want, sizeof(want), "%s/%s (deleted)", cwd, fifo);
	if (strcmp(link, want)) {
		fail("the FIFO's fd shows %s after C/R, expected %s", link, want);
		return 1;
	}
	if (access(dirname, F_OK) == 0) {
		fail("%s exists again after C/R", dirname);
		return 1;
	}
	if (fstat(fd, &st) || (st.st_mode & 07777) != 0604 || st.st_nlink != 0 ||
	    pread(fd, buf, 8, 0) != 8 || memcmp(buf, "contents", 8)) {
		fail("the deleted file after C/R: mode %o nlink %lu", st.st_mode, (unsigned long)st.st_nlink);
		return 1;
	}
	if (ioctl(rw, FIONREAD, &avail) || avail != 8 || read(rw, buf, 8) != 8 || memcmp(buf, "inflight", 8)) {
		fail("the FIFO's data after C/R (%d bytes)", avail);
		return 1;
	}
	pass();
	return 0;
}
