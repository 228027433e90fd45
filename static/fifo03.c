#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "A FIFO held only by a write-only fd, with data its reader left behind when it closed: "
		       "after C/R a new reader opened by the path finds exactly that data";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "FIFO path", 1);

#define DATA_LEN 3333

int main(int argc, char **argv)
{
	int rw, wr, rd, i, avail = -1;
	uint8_t buf[DATA_LEN + 10];

	test_init(argc, argv);

	if (mkfifo(filename, 0600))
		return pr_perror("mkfifo %s", filename);
	rw = open(filename, O_RDWR);
	wr = open(filename, O_WRONLY);
	if (rw < 0 || wr < 0)
		return pr_perror("open %s", filename);
	for (i = 0; i < DATA_LEN; i++)
		buf[i] = (uint8_t)(i * 3 + 1);
	if (write(wr, buf, DATA_LEN) != DATA_LEN)
		return pr_perror("write");
	close(rw);
	if (ioctl(wr, FIONREAD, &avail) || avail != DATA_LEN)
		return pr_perror("FIONREAD with no reader: %d", avail);

	test_daemon();
	test_waitsig();

	if (ioctl(wr, FIONREAD, &avail) || avail != DATA_LEN) {
		fail("%d bytes queued after C/R, expected %d", avail, DATA_LEN);
		return 1;
	}
	rd = open(filename, O_RDONLY | O_NONBLOCK);
	if (rd < 0)
		return pr_perror("open the reader");
	memset(buf, 0, sizeof(buf));
	if (read(rd, buf, sizeof(buf)) != DATA_LEN) {
		fail("the new reader does not get %d bytes", DATA_LEN);
		return 1;
	}
	for (i = 0; i < DATA_LEN; i++)
		if (buf[i] != (uint8_t)(i * 3 + 1)) {
			errno = 0;
			fail("the data differs at byte %d", i);
			return 1;
		}
	unlink(filename);
	pass();
	return 0;
}
