#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "A named FIFO opened (O_RDWR) with data in it, then unlinked: after C/R the fd is still a "
		       "FIFO with the data, and the name is still free";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

#define MSG "data in a FIFO without a name"

int main(int argc, char **argv)
{
	struct stat st;
	char buf[64];
	int fd, n;

	test_init(argc, argv);

	if (mkfifo(filename, 0600)) {
		pr_perror("mkfifo");
		return 1;
	}
	fd = open(filename, O_RDWR);
	if (fd < 0 || write(fd, MSG, sizeof(MSG)) != sizeof(MSG) || unlink(filename)) {
		pr_perror("open/write/unlink");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (fstat(fd, &st) || !S_ISFIFO(st.st_mode)) {
		fail("the fd is not a FIFO after C/R");
		return 1;
	}
	if (access(filename, F_OK) == 0) {
		fail("%s exists after C/R", filename);
		return 1;
	}
	if (ioctl(fd, FIONREAD, &n) || n != sizeof(MSG)) {
		fail("%d bytes in the FIFO, expected %zu", n, sizeof(MSG));
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	if (read(fd, buf, sizeof(buf)) != sizeof(MSG) || strcmp(buf, MSG)) {
		fail("read '%s'", buf);
		return 1;
	}
	pass();
	return 0;
}
