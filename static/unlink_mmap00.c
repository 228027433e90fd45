#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "A file mapped shared and private, then closed and unlinked (only the mappings hold it): "
		       "after C/R the shared mapping has the file's data with our later writes, the private one "
		       "its copy-on-write changes, and both are still of one unlinked file";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

#define LEN (4 * PAGE_SIZE)

int main(int argc, char **argv)
{
	uint8_t *sh, *pr;
	uint32_t crc;
	int fd, i;

	test_init(argc, argv);

	fd = open(filename, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, LEN)) {
		pr_perror("open");
		return 1;
	}
	sh = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	pr = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (sh == MAP_FAILED || pr == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	crc = ~0;
	datagen(sh, LEN, &crc);
	pr[0] = (uint8_t)~sh[0]; /* copied: a private page of its own */
	close(fd);
	if (unlink(filename)) {
		pr_perror("unlink");
		return 1;
	}

	test_daemon();
	test_waitsig();

	crc = ~0;
	if (datachk(sh, LEN, &crc)) {
		fail("the shared mapping's data changed");
		return 1;
	}
	if (pr[0] != (uint8_t)~sh[0]) {
		fail("the private copy of page 0 is lost");
		return 1;
	}
	for (i = PAGE_SIZE; i < LEN; i++)
		if (pr[i] != sh[i]) {
			fail("the private mapping's unchanged byte %d is not the file's", i);
			return 1;
		}
	/* a write to the shared mapping is seen by the untouched private pages: one file */
	sh[2 * PAGE_SIZE + 1] ^= 0xff;
	if (pr[2 * PAGE_SIZE + 1] != sh[2 * PAGE_SIZE + 1]) {
		fail("the mappings are not of one file after C/R");
		return 1;
	}
	if (access(filename, F_OK) == 0) {
		fail("%s exists after C/R", filename);
		return 1;
	}
	pass();
	return 0;
}
