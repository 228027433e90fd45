#include <fcntl.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "An unlinked open file of several megabytes (more than the default ghost limit would "
		       "refuse: the desc raises it) whose data comes back whole after C/R";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

#define LEN (3 << 20)

int main(int argc, char **argv)
{
	uint8_t *buf = malloc(LEN);
	struct stat st;
	uint32_t crc;
	int fd;

	test_init(argc, argv);

	fd = open(filename, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (!buf || fd < 0) {
		pr_perror("open");
		return 1;
	}
	crc = ~0;
	datagen(buf, LEN, &crc);
	if (write_data(fd, buf, LEN) || unlink(filename)) {
		pr_perror("write/unlink");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (fstat(fd, &st) || st.st_size != LEN || st.st_nlink) {
		fail("size %ld nlink %lu", (long)st.st_size, (unsigned long)st.st_nlink);
		return 1;
	}
	memset(buf, 0, LEN);
	if (pread(fd, buf, LEN, 0) != LEN) {
		fail("pread");
		return 1;
	}
	crc = ~0;
	if (datachk(buf, LEN, &crc)) {
		fail("the data changed");
		return 1;
	}
	pass();
	return 0;
}
