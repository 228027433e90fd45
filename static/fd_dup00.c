#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that dup'ed descriptors (also at high numbers) still share one open file after C/R";
const char *test_author = "Stasis developers";

static char *filename;
TEST_OPTION(filename, string, "file to open", 1);

#define INITIAL 100

int main(int argc, char **argv)
{
	unsigned char buf[INITIAL];
	int fds[5], nfds = ARRAY_SIZE(fds);
	int indep, i, v;
	struct stat st0, st;
	off_t off;

	test_init(argc, argv);

	fds[0] = open(filename, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fds[0] < 0)
		return pr_perror("open %s", filename);
	memset(buf, 'a', sizeof(buf));
	if (write(fds[0], buf, sizeof(buf)) != sizeof(buf))
		return pr_perror("write");
	fds[1] = dup(fds[0]);
	fds[2] = dup2(fds[0], 500);
	fds[3] = fcntl(fds[0], F_DUPFD, 700);
	fds[4] = dup3(fds[0], 850, O_CLOEXEC);
	/* A separate open of the same file: its own offset, never shared */
	indep = open(filename, O_RDWR);
	for (i = 0; i < nfds; i++)
		if (fds[i] < 0)
			return pr_perror("dup #%d", i);
	if (indep < 0)
		return pr_perror("open %s again", filename);
	if (fstat(fds[0], &st0))
		return pr_perror("fstat");

	test_daemon();
	test_waitsig();

	for (i = 0; i < nfds; i++) {
		if (fstat(fds[i], &st) || st.st_ino != st0.st_ino || st.st_dev != st0.st_dev) {
			fail("fd %d is not the test file any more", fds[i]);
			return 1;
		}
		off = lseek(fds[i], 0, SEEK_CUR);
		if (off != INITIAL) {
			fail("fd %d: offset %lld, expected %d", fds[i], (long long)off, INITIAL);
			return 1;
		}
		v = fcntl(fds[i], F_GETFD);
		if (v != (i == 4 ? FD_CLOEXEC : 0)) {
			fail("fd %d: F_GETFD %d, expected %d", fds[i], v, i == 4 ? FD_CLOEXEC : 0);
			return 1;
		}
	}
	if (lseek(indep, 0, SEEK_CUR) != 0) {
		fail("the separately opened fd %d does not have offset 0", indep);
		return 1;
	}

	/* One offset: writing through one descriptor moves all of them */
	if (write(fds[2], "0123456789", 10) != 10) {
		fail("write through fd %d", fds[2]);
		return 1;
	}
	for (i = 0; i < nfds; i++) {
		off = lseek(fds[i], 0, SEEK_CUR);
		if (off != INITIAL + 10) {
			fail("fd %d: offset %lld after writing through fd %d, expected %d (offset not shared)", fds[i],
			     (long long)off, fds[2], INITIAL + 10);
			return 1;
		}
	}
	if (lseek(fds[4], 5, SEEK_SET) != 5 || lseek(fds[0], 0, SEEK_CUR) != 5) {
		fail("lseek through fd %d is not seen through fd %d", fds[4], fds[0]);
		return 1;
	}

	/* One set of file status flags */
	if (fcntl(fds[1], F_SETFL, O_NONBLOCK)) {
		fail("F_SETFL");
		return 1;
	}
	for (i = 0; i < nfds; i++)
		if (!(fcntl(fds[i], F_GETFL) & O_NONBLOCK)) {
			fail("O_NONBLOCK set through fd %d is not seen through fd %d", fds[1], fds[i]);
			return 1;
		}
	if (fcntl(indep, F_GETFL) & O_NONBLOCK) {
		fail("O_NONBLOCK leaked into the separately opened fd %d", indep);
		return 1;
	}
	if (lseek(indep, 0, SEEK_CUR) != 0) {
		fail("the separately opened fd %d shares the offset", indep);
		return 1;
	}

	unlink(filename);
	pass();
	return 0;
}
