#include <stdio.h>
#include <sys/mman.h>

#include "uring_common.h"

const char *test_doc = "An idle io_uring whose process has an io-wq worker thread (a read of a memfd went to "
		       "iou-wrk) is refused at dump (nothing can be injected into a worker), and the ring goes on";
const char *test_author = "Stasis developers";

static struct uring r;

static int nr_threads(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	int n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	char buf[16] = {};
	int mfd, res, i;

	test_init(argc, argv);

	mfd = memfd_create("uring-worker", 0);
	if (uring_setup(&r, 4, 0) || mfd < 0 || write(mfd, "worker", 6) != 6) {
		pr_perror("io_uring setup or memfd");
		return 1;
	}
	res = uring_one(&r, IORING_OP_READ, mfd, 0, buf, 6, 0, 0, 0x11);
	if (res != 6 || strcmp(buf, "worker")) {
		pr_err("READ of the memfd: %d \"%s\"\n", res, buf);
		return 1;
	}
	for (i = 0; i < 100 && nr_threads() < 2; i++)
		usleep(10000);
	if (nr_threads() < 2) {
		pr_err("no io-wq worker was made: this kernel reads a memfd inline, the test proves nothing\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	memset(buf, 0, sizeof(buf));
	res = uring_one(&r, IORING_OP_READ, mfd, 0, buf, 6, 0, 0, 0x12);
	if (res != 6 || strcmp(buf, "worker")) {
		fail("the ring does not work after the refused dump: %d \"%s\"", res, buf);
		return 1;
	}
	pass();
	return 0;
}
