#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that the close-on-exec flag of each descriptor survives C/R";
const char *test_author = "Stasis developers";

static char *filename;
TEST_OPTION(filename, string, "regular file to open", 1);

struct tfd {
	int fd;
	int cloexec;
};

/* The kernel's view: "flags:" in /proc/self/fdinfo/N carries O_CLOEXEC */
static int fdinfo_cloexec(int fd)
{
	char path[64], line[256];
	unsigned int flags;
	FILE *f;
	int ret = -1;

	ssprintf(path, "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "flags: %o", &flags) == 1) {
			ret = !!(flags & O_CLOEXEC);
			break;
		}
	fclose(f);
	return ret;
}

int main(int argc, char **argv)
{
	struct tfd fds[8];
	int n = 0, i, fd, v;

	test_init(argc, argv);

	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fds[n++] = (struct tfd){ fd, 1 };
	fd = open("/dev/null", O_WRONLY);
	fds[n++] = (struct tfd){ fd, 0 };
	fds[n++] = (struct tfd){ fcntl(fds[1].fd, F_DUPFD_CLOEXEC, 300), 1 };
	fds[n++] = (struct tfd){ dup3(fds[0].fd, 301, 0), 0 };
	fd = open(filename, O_CREAT | O_EXCL | O_RDWR, 0600);
	fds[n++] = (struct tfd){ fd, 1 };
	if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC))
		return pr_perror("F_SETFD");
	fds[n++] = (struct tfd){ open(filename, O_RDONLY), 0 };
	fds[n++] = (struct tfd){ dup3(fd, 400, O_CLOEXEC), 1 };
	/* Set, then cleared again */
	fd = open(filename, O_WRONLY | O_CLOEXEC);
	fds[n++] = (struct tfd){ fd, 0 };
	if (fd >= 0 && fcntl(fd, F_SETFD, 0))
		return pr_perror("F_SETFD 0");

	for (i = 0; i < n; i++) {
		if (fds[i].fd < 0) {
			pr_err("descriptor %d could not be opened\n", i);
			return 1;
		}
		if (!!(fcntl(fds[i].fd, F_GETFD) & FD_CLOEXEC) != fds[i].cloexec ||
		    fdinfo_cloexec(fds[i].fd) != fds[i].cloexec) {
			pr_err("fd %d has the wrong close-on-exec flag before C/R\n", fds[i].fd);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < n; i++) {
		v = fcntl(fds[i].fd, F_GETFD);
		if (v < 0) {
			fail("fd %d is not open", fds[i].fd);
			return 1;
		}
		if (!!(v & FD_CLOEXEC) != fds[i].cloexec) {
			fail("fd %d: F_GETFD gives %#x, close-on-exec expected %d", fds[i].fd, v, fds[i].cloexec);
			return 1;
		}
		v = fdinfo_cloexec(fds[i].fd);
		if (v != fds[i].cloexec) {
			fail("fd %d: /proc/self/fdinfo shows close-on-exec %d, expected %d", fds[i].fd, v,
			     fds[i].cloexec);
			return 1;
		}
	}

	unlink(filename);
	pass();
	return 0;
}
