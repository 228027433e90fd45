#include <fcntl.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "A deleted file with 2 MiB of data, over the default ghost limit (1 MiB): the dump "
		       "must refuse it and leave the process running with the file intact";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

#define LEN (2 << 20)

int main(int argc, char **argv)
{
	static uint8_t buf[LEN];
	struct stat st;
	int fd, i;

	test_init(argc, argv);

	fd = open(filename, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return pr_perror("open %s", filename);
	for (i = 0; i < LEN; i++)
		buf[i] = (uint8_t)(i * 7);
	if (write(fd, buf, LEN) != LEN || unlink(filename))
		return pr_perror("write/unlink");

	test_daemon();
	test_waitsig();

	memset(buf, 0, LEN);
	if (fstat(fd, &st) || st.st_size != LEN || st.st_nlink != 0 || pread(fd, buf, LEN, 0) != LEN) {
		fail("the deleted file changed");
		return 1;
	}
	for (i = 0; i < LEN; i++)
		if (buf[i] != (uint8_t)(i * 7)) {
			fail("content differs at %d", i);
			return 1;
		}
	pass();
	return 0;
}
