#include <fcntl.h>

#include "zdtmtst.h"

const char *test_doc = "A file written half before C/R and half after it through one write-only fd, read through "
		       "another read-only fd kept open at the half: the reader sees the first half before and the "
		       "whole after, the writer's offset is where it was";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

#define LEN (32 * 1024)

int main(int argc, char **argv)
{
	static uint8_t buf[LEN], got[LEN];
	int wfd, rfd, fl;
	uint32_t crc;

	test_init(argc, argv);

	wfd = open(filename, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	rfd = open(filename, O_RDONLY);
	if (wfd < 0 || rfd < 0) {
		pr_perror("open %s", filename);
		return 1;
	}
	crc = ~0;
	datagen(buf, LEN, &crc);
	if (write_data(wfd, buf, LEN / 2) || read_data(rfd, got, LEN / 2) || memcmp(got, buf, LEN / 2)) {
		pr_perror("first half");
		return 1;
	}

	test_daemon();
	test_waitsig();

	fl = fcntl(wfd, F_GETFL);
	if ((fl & O_ACCMODE) != O_WRONLY || (fcntl(rfd, F_GETFL) & O_ACCMODE) != O_RDONLY) {
		fail("access modes changed: %#x %#x", fl, fcntl(rfd, F_GETFL));
		return 1;
	}
	if (lseek(wfd, 0, SEEK_CUR) != LEN / 2 || lseek(rfd, 0, SEEK_CUR) != LEN / 2) {
		fail("offsets %ld %ld after C/R, expected %d", (long)lseek(wfd, 0, SEEK_CUR), (long)lseek(rfd, 0, SEEK_CUR),
		     LEN / 2);
		return 1;
	}
	if (write_data(wfd, buf + LEN / 2, LEN / 2) || read_data(rfd, got + LEN / 2, LEN / 2)) {
		fail("second half");
		return 1;
	}
	crc = ~0;
	if (datachk(got, LEN, &crc)) {
		fail("the data read back is not what was written");
		return 1;
	}
	pass();
	return 0;
}
