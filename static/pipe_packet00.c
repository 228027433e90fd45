#include <fcntl.h>
#include <sys/ioctl.h>

#include "zdtmtst.h"

const char *test_doc = "A packet-mode pipe (pipe2 O_DIRECT) with packets of different sizes queued: F_GETFL of "
		       "both ends exact (O_DIRECT on the write end) after C/R, every read returns exactly one "
		       "packet, and new writes are packets";
const char *test_author = "Stasis developers";

#ifndef NR_PACKETS
#define NR_PACKETS 3
#endif

static const int sizes[3] = { 1, 777, 4000 };

static uint8_t pat(int pkt, int off)
{
	return (uint8_t)(pkt * 71 + off * 7 + 1);
}

static int write_packet(int fd, int pkt, int size)
{
	uint8_t buf[4096];
	int i;

	for (i = 0; i < size; i++)
		buf[i] = pat(pkt, i);
	if (write(fd, buf, size) != size)
		return pr_perror("write packet %d", pkt);
	return 0;
}

/* A read with room for all of them returns one packet only */
static int read_packet(int fd, int pkt, int size, const char *when)
{
	uint8_t buf[16384];
	ssize_t n;
	int i;

	n = read(fd, buf, sizeof(buf));
	if (n != size) {
		fail("%s: read of packet %d returned %zd bytes, expected %d", when, pkt, n, size);
		return 1;
	}
	for (i = 0; i < size; i++)
		if (buf[i] != pat(pkt, i)) {
			errno = 0;
			fail("%s: packet %d differs at byte %d", when, pkt, i);
			return 1;
		}
	return 0;
}

static int queued(int fd)
{
	int avail = -1;

	if (ioctl(fd, FIONREAD, &avail))
		return -1;
	return avail;
}

int main(int argc, char **argv)
{
	int p[2], i, fl0, fl1, want = 0, got;

	test_init(argc, argv);

	if (pipe2(p, O_DIRECT)) {
		pr_perror("pipe2(O_DIRECT)");
		return 1;
	}
	fl0 = fcntl(p[0], F_GETFL);
	fl1 = fcntl(p[1], F_GETFL);
	/* the kernel keeps O_DIRECT on the write end only (it makes the writes packets) */
	if (fl0 != O_RDONLY || fl1 != (O_WRONLY | O_DIRECT)) {
		pr_err("F_GETFL right after pipe2(O_DIRECT): %#x %#x\n", fl0, fl1);
		return 1;
	}
	for (i = 0; i < NR_PACKETS; i++) {
		if (write_packet(p[1], i, sizes[i]))
			return 1;
		want += sizes[i];
	}

	test_daemon();
	test_waitsig();

	if (fcntl(p[0], F_GETFL) != fl0 || fcntl(p[1], F_GETFL) != fl1) {
		fail("F_GETFL after C/R: read end %#x (was %#x), write end %#x (was %#x)", fcntl(p[0], F_GETFL),
		     fl0, fcntl(p[1], F_GETFL), fl1);
		return 1;
	}
	got = queued(p[0]);
	if (got != want) {
		fail("%d bytes queued after C/R, expected %d", got, want);
		return 1;
	}
	for (i = 0; i < NR_PACKETS; i++)
		if (read_packet(p[0], i, sizes[i], "after C/R"))
			return 1;
	if (queued(p[0]) != 0) {
		fail("%d bytes left after the packets", queued(p[0]));
		return 1;
	}
	/* the pipe is still in packet mode: two new writes are read back one by one */
	if (write_packet(p[1], 10, 300) || write_packet(p[1], 11, 5))
		return 1;
	if (read_packet(p[0], 10, 300, "after C/R, a new packet") ||
	    read_packet(p[0], 11, 5, "after C/R, a new packet"))
		return 1;
	pass();
	return 0;
}
