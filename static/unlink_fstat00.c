#include <fcntl.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "An open file unlinked before C/R: after it fstat gives no links, its mode and size, the "
		       "data is there (CRC), the name is still free, and the offset is where it was";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

#define LEN (20 * 1024)

int main(int argc, char **argv)
{
	static uint8_t buf[LEN];
	struct stat st;
	uint32_t crc;
	int fd;

	test_init(argc, argv);

	fd = open(filename, O_RDWR | O_CREAT | O_EXCL, 0640);
	if (fd < 0) {
		pr_perror("open %s", filename);
		return 1;
	}
	crc = ~0;
	datagen(buf, LEN, &crc);
	if (write_data(fd, buf, LEN) || lseek(fd, 100, SEEK_SET) != 100 || unlink(filename)) {
		pr_perror("write/unlink");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (fstat(fd, &st) || st.st_nlink != 0 || st.st_size != LEN || (st.st_mode & 07777) != 0640) {
		fail("nlink %lu size %ld mode %o after C/R", (unsigned long)st.st_nlink, (long)st.st_size,
		     st.st_mode & 07777);
		return 1;
	}
	if (access(filename, F_OK) == 0) {
		fail("%s exists again after C/R", filename);
		return 1;
	}
	if (lseek(fd, 0, SEEK_CUR) != 100) {
		fail("offset %ld", (long)lseek(fd, 0, SEEK_CUR));
		return 1;
	}
	memset(buf, 0, LEN);
	if (pread(fd, buf, LEN, 0) != LEN) {
		fail("pread");
		return 1;
	}
	crc = ~0;
	if (datachk(buf, LEN, &crc)) {
		fail("the data of the unlinked file changed");
		return 1;
	}
	pass();
	return 0;
}
