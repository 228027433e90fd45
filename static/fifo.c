#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "A named FIFO opened O_RDWR with data in it: after C/R the fd is of the FIFO at its path, "
		       "the data is there, and it still carries data";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

#define LEN 10000

int main(int argc, char **argv)
{
	static uint8_t buf[LEN];
	struct stat st, st2;
	uint32_t crc;
	int fd, n;

	test_init(argc, argv);

	if (mkfifo(filename, 0600)) {
		pr_perror("mkfifo");
		return 1;
	}
	fd = open(filename, O_RDWR);
	crc = ~0;
	datagen(buf, LEN, &crc);
	if (fd < 0 || write_data(fd, buf, LEN)) {
		pr_perror("open/write");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (fstat(fd, &st) || !S_ISFIFO(st.st_mode) || stat(filename, &st2) || st.st_ino != st2.st_ino) {
		fail("the fd is not of the FIFO %s", filename);
		return 1;
	}
	if (ioctl(fd, FIONREAD, &n) || n != LEN) {
		fail("%d bytes in the FIFO, expected %d", n, LEN);
		return 1;
	}
	memset(buf, 0, LEN);
	if (read_data(fd, buf, LEN)) {
		fail("read");
		return 1;
	}
	crc = ~0;
	if (datachk(buf, LEN, &crc)) {
		fail("the data in the FIFO changed");
		return 1;
	}
	if (write(fd, "x", 1) != 1 || read(fd, buf, 1) != 1 || buf[0] != 'x') {
		fail("no data through the FIFO after C/R");
		return 1;
	}
	pass();
	return 0;
}
