#include <fcntl.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "A file written before C/R through an fd kept open: after it the fd is at the end of the "
		       "data, reads back from the start give the data (CRC), and the file on disk has it too";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

#define LEN (64 * 1024 + 123)

int main(int argc, char **argv)
{
	static uint8_t buf[LEN];
	uint32_t crc;
	struct stat st;
	int fd, fd2;

	test_init(argc, argv);

	fd = open(filename, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		pr_perror("open %s", filename);
		return 1;
	}
	crc = ~0;
	datagen(buf, LEN, &crc);
	if (write_data(fd, buf, LEN)) {
		pr_perror("write");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (lseek(fd, 0, SEEK_CUR) != LEN) {
		fail("offset %ld after C/R, expected %d", (long)lseek(fd, 0, SEEK_CUR), LEN);
		return 1;
	}
	if (fstat(fd, &st) || st.st_size != LEN || (st.st_mode & 07777) != 0644) {
		fail("size %ld mode %o after C/R", (long)st.st_size, st.st_mode & 07777);
		return 1;
	}
	memset(buf, 0, LEN);
	if (pread(fd, buf, LEN, 0) != LEN) {
		fail("pread");
		return 1;
	}
	crc = ~0;
	if (datachk(buf, LEN, &crc)) {
		fail("the data read through the fd changed");
		return 1;
	}
	fd2 = open(filename, O_RDONLY);
	memset(buf, 0, LEN);
	if (fd2 < 0 || read_data(fd2, buf, LEN)) {
		fail("reopen %s", filename);
		return 1;
	}
	crc = ~0;
	if (datachk(buf, LEN, &crc)) {
		fail("the data in the file changed");
		return 1;
	}
	pass();
	return 0;
}
