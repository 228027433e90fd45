#include <fcntl.h>
#include <sys/stat.h>

#include "zdtmtst.h"

/*
 * ghost_holes00: data, a hole, data. Upstream's variants by define: ghost_holes01 (-DTAIL_HOLE: data, then
 * a hole up to the end) and ghost_holes02 (-DHEAD_HOLE: a hole, then data).
 */
const char *test_doc = "An unlinked sparse file (a hole in the middle, at the end or at the start, by build): after "
		       "C/R the data is at its offsets, the hole reads as zeroes and is still a hole (SEEK_DATA, "
		       "SEEK_HOLE)";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

#define CHUNK (64 * 1024)
#define HOLE (4 << 20)

#if defined(TAIL_HOLE)
static const off_t data_at[] = { 0 };
#define SIZE (CHUNK + HOLE)
#elif defined(HEAD_HOLE)
static const off_t data_at[] = { HOLE };
#define SIZE (HOLE + CHUNK)
#else
static const off_t data_at[] = { 0, CHUNK + HOLE };
#define SIZE (2 * CHUNK + HOLE)
#endif

static uint8_t pattern(off_t off)
{
	return (uint8_t)(off * 7 + (off >> 12) + 1);
}

int main(int argc, char **argv)
{
	static uint8_t buf[CHUNK];
	struct stat st;
	unsigned i;
	off_t off, j;
	int fd;

	test_init(argc, argv);

	fd = open(filename, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		pr_perror("open");
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(data_at); i++) {
		for (j = 0; j < CHUNK; j++)
			buf[j] = pattern(data_at[i] + j);
		if (pwrite(fd, buf, CHUNK, data_at[i]) != CHUNK) {
			pr_perror("pwrite");
			return 1;
		}
	}
	if (ftruncate(fd, SIZE) || unlink(filename)) {
		pr_perror("ftruncate/unlink");
		return 1;
	}
	if (lseek(fd, 0, SEEK_HOLE) == SIZE) {
		pr_err("the file system does not keep holes\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (fstat(fd, &st) || st.st_size != SIZE || st.st_nlink) {
		fail("size %ld (expected %d) nlink %lu", (long)st.st_size, SIZE, (unsigned long)st.st_nlink);
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(data_at); i++) {
		off = lseek(fd, i ? data_at[i - 1] + CHUNK : 0, SEEK_DATA);
		if (off != data_at[i]) {
			fail("data %u found at %ld, expected at %ld", i, (long)off, (long)data_at[i]);
			return 1;
		}
		off = lseek(fd, data_at[i], SEEK_HOLE);
		if (off != data_at[i] + CHUNK && !(data_at[i] + CHUNK == SIZE && off == SIZE)) {
			fail("the hole after data %u starts at %ld, expected %ld", i, (long)off, (long)(data_at[i] + CHUNK));
			return 1;
		}
		if (pread(fd, buf, CHUNK, data_at[i]) != CHUNK) {
			fail("pread");
			return 1;
		}
		for (j = 0; j < CHUNK; j++)
			if (buf[j] != pattern(data_at[i] + j)) {
				fail("byte %ld changed", (long)(data_at[i] + j));
				return 1;
			}
	}
	/* a piece of the hole reads as zeroes */
	off = data_at[0] ? 4096 : CHUNK + 4096;
	if (pread(fd, buf, 4096, off) != 4096) {
		fail("pread of the hole");
		return 1;
	}
	for (j = 0; j < 4096; j++)
		if (buf[j]) {
			fail("the hole has data at %ld", (long)(off + j));
			return 1;
		}
	if (st.st_blocks * 512 > SIZE / 2) {
		fail("%ld bytes allocated for a file of %d with a %d-byte hole", (long)st.st_blocks * 512, SIZE, HOLE);
		return 1;
	}
	pass();
	return 0;
}
