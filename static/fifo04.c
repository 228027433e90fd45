#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "Many FIFOs at once, every other one unlinked, each with its own amount of data in flight "
		       "and its own capacity: after C/R each read end gets exactly its FIFO's data";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "FIFO name prefix", 1);

#define NR 24

static uint8_t pat(int k, int off)
{
	return (uint8_t)(k * 41 + off * 3 + (off >> 8));
}

int main(int argc, char **argv)
{
	static uint8_t buf[70000];
	int rd[NR], wr[NR], k, i, avail;
	char name[NR][4096];

	test_init(argc, argv);

	for (k = 0; k < NR; k++) {
		int len = k * 2500;

		snprintf(name[k], sizeof(name[k]), "%s.%d", filename, k);
		if (mkfifo(name[k], 0600))
			return pr_perror("mkfifo %s", name[k]);
		rd[k] = open(name[k], O_RDONLY | O_NONBLOCK);
		wr[k] = open(name[k], O_WRONLY);
		if (rd[k] < 0 || wr[k] < 0)
			return pr_perror("open %s", name[k]);
		if (fcntl(wr[k], F_SETPIPE_SZ, k % 2 ? 128 * 1024 : 64 * 1024) < 0)
			return pr_perror("F_SETPIPE_SZ");
		for (i = 0; i < len; i++)
			buf[i] = pat(k, i);
		if (write(wr[k], buf, len) != len)
			return pr_perror("write");
		if (k % 2 && unlink(name[k]))
			return pr_perror("unlink");
	}

	test_daemon();
	test_waitsig();

	for (k = 0; k < NR; k++) {
		int len = k * 2500, sz = fcntl(wr[k], F_GETPIPE_SZ);

		if (sz != (k % 2 ? 128 * 1024 : 64 * 1024)) {
			fail("FIFO %d: capacity %d after C/R", k, sz);
			return 1;
		}
		if (ioctl(rd[k], FIONREAD, &avail) || avail != len) {
			fail("FIFO %d: %d bytes queued after C/R, expected %d", k, avail, len);
			return 1;
		}
		if (len && read(rd[k], buf, sizeof(buf)) != len) {
			fail("FIFO %d: short read after C/R", k);
			return 1;
		}
		for (i = 0; i < len; i++)
			if (buf[i] != pat(k, i)) {
				errno = 0;
				fail("FIFO %d: data differs at %d after C/R", k, i);
				return 1;
			}
		if (access(name[k], F_OK) != (k % 2 ? -1 : 0)) {
			fail("FIFO %d: its name %s after C/R", k, k % 2 ? "is back" : "is gone");
			return 1;
		}
		if (!(k % 2))
			unlink(name[k]);
	}
	pass();
	return 0;
}
