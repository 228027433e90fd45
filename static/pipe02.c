#include <fcntl.h>
#include <sys/ioctl.h>

#include "zdtmtst.h"

const char *test_doc = "A full pipe: the non-blocking write end gets EAGAIN before and after C/R, the buffer holds "
		       "exactly its capacity of generated data";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	static uint8_t buf[1 << 20];
	int p[2], cap, avail, n, total = 0;
	uint32_t crc;

	test_init(argc, argv);

	if (pipe(p)) {
		pr_perror("pipe");
		return 1;
	}
	cap = fcntl(p[1], F_GETPIPE_SZ);
	if (cap <= 0 || cap > (int)sizeof(buf) || set_nonblock(p[1], 1)) {
		pr_perror("pipe setup (capacity %d)", cap);
		return 1;
	}
	crc = ~0;
	datagen(buf, cap, &crc);
	while (total < cap) {
		n = write(p[1], buf + total, cap - total);
		if (n <= 0)
			break;
		total += n;
	}
	if (total != cap || write(p[1], buf, 1) != -1 || errno != EAGAIN) {
		pr_perror("could not fill the pipe (%d of %d)", total, cap);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (fcntl(p[1], F_GETPIPE_SZ) != cap) {
		fail("capacity %d, expected %d", fcntl(p[1], F_GETPIPE_SZ), cap);
		return 1;
	}
	if (ioctl(p[0], FIONREAD, &avail) || avail != cap) {
		fail("%d bytes in the pipe, expected %d", avail, cap);
		return 1;
	}
	errno = 0;
	if (write(p[1], buf, 1) != -1 || errno != EAGAIN) {
		fail("a write to the full non-blocking pipe did not get EAGAIN");
		return 1;
	}
	if (read_data(p[0], buf, cap)) {
		fail("read");
		return 1;
	}
	crc = ~0;
	if (datachk(buf, cap, &crc)) {
		fail("the data in the pipe changed");
		return 1;
	}
	pass();
	return 0;
}
