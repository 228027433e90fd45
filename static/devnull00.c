#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that /dev/null (and /dev/zero where the root has it) descriptors, also at high numbers, survive C/R";
const char *test_author = "Stasis developers";

struct tfd {
	int fd;
	unsigned int major, minor;
	int fl;
	struct stat st;
	char link[PATH_MAX];
};

static int record(struct tfd *t, int fd, unsigned int major, unsigned int minor)
{
	ssize_t n;
	char path[64];

	t->fd = fd;
	t->major = major;
	t->minor = minor;
	if (fd < 0)
		return pr_perror("open");
	t->fl = fcntl(fd, F_GETFL);
	if (t->fl < 0 || fstat(fd, &t->st))
		return pr_perror("F_GETFL/fstat %d", fd);
	if (!S_ISCHR(t->st.st_mode) || major(t->st.st_rdev) != major || minor(t->st.st_rdev) != minor) {
		pr_err("fd %d is not char device %u:%u\n", fd, major, minor);
		return 1;
	}
	ssprintf(path, "/proc/self/fd/%d", fd);
	n = readlink(path, t->link, sizeof(t->link) - 1);
	if (n < 0)
		return pr_perror("readlink %s", path);
	t->link[n] = '\0';
	return 0;
}

int main(int argc, char **argv)
{
	struct tfd fds[6];
	int n = 0, i, fd, zero_fd = -1, zero_hi = -1;
	unsigned char buf[4096];
	char path[64], link[PATH_MAX];
	struct stat st;
	ssize_t len;

	test_init(argc, argv);

	fd = open("/dev/null", O_RDWR);
	if (record(&fds[n++], fd, 1, 3))
		return 1;
	if (record(&fds[n++], dup2(fd, 600), 1, 3))
		return 1;
	if (record(&fds[n++], open("/dev/null", O_WRONLY | O_APPEND), 1, 3))
		return 1;
	if (record(&fds[n++], open("/dev/null", O_RDONLY | O_NONBLOCK), 1, 3))
		return 1;
	/* The ns/uns roots have only a few device nodes; /dev/zero is tested where it exists */
	zero_fd = open("/dev/zero", O_RDONLY);
	if (zero_fd >= 0) {
		if (record(&fds[n++], zero_fd, 1, 5))
			return 1;
		zero_hi = dup2(zero_fd, 777);
		if (record(&fds[n++], zero_hi, 1, 5))
			return 1;
	} else
		test_msg("no /dev/zero here, testing /dev/null only\n");

	test_daemon();
	test_waitsig();

	for (i = 0; i < n; i++) {
		struct tfd *t = &fds[i];

		if (fstat(t->fd, &st)) {
			fail("fd %d is not open", t->fd);
			return 1;
		}
		if (!S_ISCHR(st.st_mode) || st.st_rdev != t->st.st_rdev || st.st_ino != t->st.st_ino ||
		    st.st_dev != t->st.st_dev) {
			fail("fd %d: now %u:%u ino %lu, expected char device %u:%u ino %lu", t->fd, major(st.st_rdev),
			     minor(st.st_rdev), (unsigned long)st.st_ino, t->major, t->minor,
			     (unsigned long)t->st.st_ino);
			return 1;
		}
		if (fcntl(t->fd, F_GETFL) != t->fl) {
			fail("fd %d: flags %#o, expected %#o", t->fd, fcntl(t->fd, F_GETFL), t->fl);
			return 1;
		}
		ssprintf(path, "/proc/self/fd/%d", t->fd);
		len = readlink(path, link, sizeof(link) - 1);
		if (len < 0) {
			fail("readlink %s", path);
			return 1;
		}
		link[len] = '\0';
		if (strcmp(link, t->link)) {
			fail("fd %d points to %s, expected %s", t->fd, link, t->link);
			return 1;
		}
	}

	/* And they still behave as the devices they are */
	if (write(fds[1].fd, buf, sizeof(buf)) != sizeof(buf) || write(fds[2].fd, buf, 10) != 10) {
		fail("write to /dev/null");
		return 1;
	}
	if (read(fds[0].fd, buf, sizeof(buf)) != 0 || read(fds[3].fd, buf, sizeof(buf)) != 0) {
		fail("read from /dev/null returned data");
		return 1;
	}
	if (zero_hi >= 0) {
		memset(buf, 0xaa, sizeof(buf));
		if (read(zero_hi, buf, sizeof(buf)) != sizeof(buf)) {
			fail("read from /dev/zero at fd %d", zero_hi);
			return 1;
		}
		for (i = 0; i < (int)sizeof(buf); i++)
			if (buf[i]) {
				fail("/dev/zero returned a nonzero byte");
				return 1;
			}
	}

	pass();
	return 0;
}
