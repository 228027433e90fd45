#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A file unlinked under one name but still linked under another in the same directory, "
		       "its description shared by a parent and a child: after C/R the fd is the very inode of the "
		       "other link (one link, writes through the fd are seen through the name), the offset is "
		       "shared across the processes";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

int main(int argc, char **argv)
{
	char other[4096], buf[16];
	int fd, ctl[2], back[2], status, o;
	struct stat st, st_other;
	pid_t kid;
	char c;

	test_init(argc, argv);

	snprintf(other, sizeof(other), "%s.other", filename);
	fd = open(filename, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, "0123456789", 10) != 10 || link(filename, other) || unlink(filename))
		return pr_perror("open/link/unlink %s", filename);
	if (lseek(fd, 3, SEEK_SET) != 3 || pipe(ctl) || pipe(back))
		return pr_perror("lseek");
	kid = fork();
	if (kid < 0)
		return pr_perror("fork");
	if (kid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (write(back[1], "r", 1) != 1 || read(ctl[0], &c, 1) != 1)
			_exit(2);
		if (read(fd, buf, 2) != 2 || memcmp(buf, "34", 2)) /* moves the shared offset to 5 */
			_exit(3);
		_exit(0);
	}
	if (read(back[0], &c, 1) != 1)
		return pr_perror("read");

	test_daemon();
	test_waitsig();

	if (fstat(fd, &st) || stat(other, &st_other))
		return pr_perror("stat");
	if (st.st_ino != st_other.st_ino || st.st_dev != st_other.st_dev || st.st_nlink != 1) {
		fail("after C/R the fd is inode %lu (%lu links), %s is %lu", (unsigned long)st.st_ino,
		     (unsigned long)st.st_nlink, other, (unsigned long)st_other.st_ino);
		kill(kid, SIGKILL);
		return 1;
	}
	if (access(filename, F_OK) == 0) {
		fail("%s exists again after C/R", filename);
		kill(kid, SIGKILL);
		return 1;
	}
	if (write(ctl[1], "g", 1) != 1 || waitpid(kid, &status, 0) != kid)
		return pr_perror("child");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child failed after C/R (status %#x)", status);
		return 1;
	}
	if (lseek(fd, 0, SEEK_CUR) != 5) {
		fail("the offset is %ld after the child's read, expected 5", (long)lseek(fd, 0, SEEK_CUR));
		return 1;
	}
	if (pwrite(fd, "AB", 2, 0) != 2)
		return pr_perror("pwrite");
	o = open(other, O_RDONLY);
	if (o < 0 || read(o, buf, 2) != 2 || memcmp(buf, "AB", 2)) {
		fail("a write through the fd is not seen through %s after C/R", other);
		return 1;
	}
	unlink(other);
	pass();
	return 0;
}
