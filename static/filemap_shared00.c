#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "MAP_SHARED file mapping still reflects the file after restore, and writes through "
		       "the mapping or the file are seen on the other side";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file to map", 1);

#define NR_PAGES 16
#define SIZE (NR_PAGES * PAGE_SIZE)

static uint8_t expect[SIZE];

int main(int argc, char **argv)
{
	uint8_t *map, page[PAGE_SIZE];
	static uint8_t buf[SIZE];
	unsigned pg;
	uint32_t crc;
	int fd;

	test_init(argc, argv);

	fd = open(filename, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		pr_perror("open %s", filename);
		return 1;
	}
	crc = ~0;
	datagen2(expect, SIZE, &crc);
	if (pwrite(fd, expect, SIZE, 0) != SIZE) {
		pr_perror("pwrite");
		return 1;
	}
	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	/* Write half the pages through the mapping, without msync: dirty shared pages at dump time. */
	for (pg = 0; pg < NR_PAGES; pg += 2) {
		memset(expect + pg * PAGE_SIZE, 0x10 + pg, PAGE_SIZE / 2);
		memcpy(map + pg * PAGE_SIZE, expect + pg * PAGE_SIZE, PAGE_SIZE);
	}

	test_daemon();
	test_waitsig();

	if (memcmp(map, expect, SIZE)) {
		fail("shared mapping contents differ after C/R");
		return 1;
	}
	if (pread(fd, buf, SIZE, 0) != SIZE) {
		fail("pread");
		return 1;
	}
	if (memcmp(buf, expect, SIZE)) {
		fail("file contents differ from what was written through the mapping");
		return 1;
	}

	/* Mapping -> file */
	memset(map + 3 * PAGE_SIZE, 0x77, PAGE_SIZE);
	if (msync(map, SIZE, MS_SYNC)) {
		fail("msync");
		return 1;
	}
	if (pread(fd, page, PAGE_SIZE, 3 * PAGE_SIZE) != PAGE_SIZE) {
		fail("pread page 3");
		return 1;
	}
	for (pg = 0; pg < PAGE_SIZE; pg++)
		if (page[pg] != 0x77) {
			fail("a write through the mapping did not reach the file (not MAP_SHARED any more?)");
			return 1;
		}

	/* File -> mapping */
	memset(page, 0x3c, PAGE_SIZE);
	if (pwrite(fd, page, PAGE_SIZE, 5 * PAGE_SIZE) != PAGE_SIZE) {
		fail("pwrite page 5");
		return 1;
	}
	if (memcmp(map + 5 * PAGE_SIZE, page, PAGE_SIZE)) {
		fail("a write to the file is not visible in the mapping");
		return 1;
	}

	pass();
	return 0;
}
