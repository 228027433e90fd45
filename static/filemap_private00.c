#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "MAP_PRIVATE file mapping: COWed pages keep their new data, untouched pages still "
		       "read (and track) the file, the file itself is unchanged";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file to map", 1);

#define NR_PAGES 32
#define SIZE (NR_PAGES * PAGE_SIZE)

static uint8_t file_data[SIZE]; /* what was written to the file */
static uint8_t cow_data[SIZE];  /* what was written to the COWed pages */

/* Pages 0, 3, 6, ... are written through the mapping; 1, 4, 7 ... are read; the rest never touched. */
static int is_cow(unsigned pg)
{
	return pg % 3 == 0;
}

int main(int argc, char **argv)
{
	uint8_t *map, page[PAGE_SIZE];
	volatile uint8_t sink = 0;
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
	datagen2(file_data, SIZE, &crc);
	if (pwrite(fd, file_data, SIZE, 0) != SIZE) {
		pr_perror("pwrite");
		return 1;
	}
	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	crc = ~0;
	datagen2(cow_data, SIZE, &crc);
	for (pg = 0; pg < NR_PAGES; pg++) {
		if (is_cow(pg))
			memcpy(map + pg * PAGE_SIZE, cow_data + pg * PAGE_SIZE, PAGE_SIZE);
		else if (pg % 3 == 1)
			sink += map[pg * PAGE_SIZE + 5];
	}

	test_daemon();
	test_waitsig();

	for (pg = 0; pg < NR_PAGES; pg++) {
		const uint8_t *want = (is_cow(pg) ? cow_data : file_data) + pg * PAGE_SIZE;

		if (memcmp(map + pg * PAGE_SIZE, want, PAGE_SIZE)) {
			fail("page %u of the private mapping (%s) has wrong contents", pg,
			     is_cow(pg) ? "COWed" : "not written");
			return 1;
		}
	}
	for (pg = 0; pg < NR_PAGES; pg++) {
		if (pread(fd, page, PAGE_SIZE, pg * PAGE_SIZE) != PAGE_SIZE) {
			fail("pread page %u", pg);
			return 1;
		}
		if (memcmp(page, file_data + pg * PAGE_SIZE, PAGE_SIZE)) {
			fail("file page %u changed on disk: private writes leaked into the file", pg);
			return 1;
		}
	}

	/*
	 * Pages never written are still backed by the page cache: a change to the file
	 * must show through them, and must not show through the COWed ones.
	 */
	memset(page, 0xa5, PAGE_SIZE);
	for (pg = 0; pg < 3; pg++) {
		if (pwrite(fd, page, PAGE_SIZE, pg * PAGE_SIZE) != PAGE_SIZE) {
			fail("pwrite page %u", pg);
			return 1;
		}
	}
	if (memcmp(map, cow_data, PAGE_SIZE)) {
		fail("a file write showed through the COWed page 0");
		return 1;
	}
	if (memcmp(map + PAGE_SIZE, page, PAGE_SIZE) || memcmp(map + 2 * PAGE_SIZE, page, PAGE_SIZE)) {
		fail("pages 1-2 were not written privately but no longer follow the file (restored as anonymous copies?)");
		return 1;
	}

	pass();
	return 0;
}
