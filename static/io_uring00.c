#include <linux/io_uring.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "An idle io_uring instance is dumped and restored: its counters stay and it works after";
const char *test_author = "Stasis developers";

#define ENTRIES 4

static struct {
	int fd;
	struct io_uring_params p;
	uint8_t *sq, *cq;
	struct io_uring_sqe *sqes;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
} ring;

static int ring_setup(void)
{
	size_t sq_len, cq_len;

	memset(&ring.p, 0, sizeof(ring.p));
	ring.fd = syscall(__NR_io_uring_setup, ENTRIES, &ring.p);
	if (ring.fd < 0)
		return -1;
	sq_len = ring.p.sq_off.array + ring.p.sq_entries * sizeof(unsigned);
	cq_len = ring.p.cq_off.cqes + ring.p.cq_entries * sizeof(struct io_uring_cqe);
	ring.sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring.fd, IORING_OFF_SQ_RING);
	ring.cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring.fd, IORING_OFF_CQ_RING);
	ring.sqes = mmap(NULL, ring.p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_POPULATE, ring.fd, IORING_OFF_SQES);
	if (ring.sq == MAP_FAILED || ring.cq == MAP_FAILED || ring.sqes == MAP_FAILED)
		return -1;
	ring.sq_head = (unsigned *)(ring.sq + ring.p.sq_off.head);
	ring.sq_tail = (unsigned *)(ring.sq + ring.p.sq_off.tail);
	ring.sq_mask = (unsigned *)(ring.sq + ring.p.sq_off.ring_mask);
	ring.sq_array = (unsigned *)(ring.sq + ring.p.sq_off.array);
	ring.cq_head = (unsigned *)(ring.cq + ring.p.cq_off.head);
	ring.cq_tail = (unsigned *)(ring.cq + ring.p.cq_off.tail);
	ring.cq_mask = (unsigned *)(ring.cq + ring.p.cq_off.ring_mask);
	ring.cqes = (struct io_uring_cqe *)(ring.cq + ring.p.cq_off.cqes);
	return 0;
}

/* Submit one SQE (NOP or a read of @len bytes from @fd into @buf) and reap its CQE; returns cqe.res */
static int ring_do(int op, int fd, void *buf, unsigned len, uint64_t tag, uint64_t *got_tag)
{
	unsigned tail = __atomic_load_n(ring.sq_tail, __ATOMIC_ACQUIRE), idx = tail & *ring.sq_mask, head;
	struct io_uring_sqe *sqe = &ring.sqes[idx];
	struct io_uring_cqe *cqe;
	int ret;

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = op;
	sqe->fd = fd;
	sqe->addr = (unsigned long)buf;
	sqe->len = len;
	sqe->off = 0;
	sqe->user_data = tag;
	ring.sq_array[idx] = idx;
	__atomic_store_n(ring.sq_tail, tail + 1, __ATOMIC_RELEASE);

	ret = syscall(__NR_io_uring_enter, ring.fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0);
	if (ret != 1)
		return -1000 - errno;
	head = __atomic_load_n(ring.cq_head, __ATOMIC_ACQUIRE);
	if (head == __atomic_load_n(ring.cq_tail, __ATOMIC_ACQUIRE))
		return -2000;
	cqe = &ring.cqes[head & *ring.cq_mask];
	*got_tag = cqe->user_data;
	ret = cqe->res;
	__atomic_store_n(ring.cq_head, head + 1, __ATOMIC_RELEASE);
	return ret;
}

/*
 * One NOP and one read of /dev/zero through the ring; @round makes the tags of each round distinct.
 * /dev/zero supports non-blocking reads, so the read completes inline: no io-wq worker thread is
 * created, and the ring fd is the only thing the engine can object to.
 */
static int ring_works(int round, int restored)
{
	char buf[64];
	uint64_t tag = 0;
	int fd, res, i;

	res = ring_do(IORING_OP_NOP, -1, NULL, 0, 0xc0de0000 + round, &tag);
	if (res != 0 || tag != 0xc0de0000u + round) {
		if (restored)
			fail("io_uring NOP: res %d tag %#lx", res, (unsigned long)tag);
		else
			pr_err("io_uring NOP: res %d tag %#lx\n", res, (unsigned long)tag);
		return 1;
	}
	memset(buf, 0x77, sizeof(buf));
	fd = open("/dev/zero", O_RDONLY);
	res = ring_do(IORING_OP_READ, fd, buf, sizeof(buf), 0xfeed0000 + round, &tag);
	close(fd);
	for (i = 0; i < (int)sizeof(buf) && buf[i] == 0; i++)
		;
	if (res != sizeof(buf) || tag != 0xfeed0000u + round || i != sizeof(buf)) {
		if (restored)
			fail("io_uring READ of /dev/zero: res %d tag %#lx, %d zero bytes", res, (unsigned long)tag, i);
		else
			pr_err("io_uring READ of /dev/zero: res %d tag %#lx, %d zero bytes\n", res, (unsigned long)tag,
			       i);
		return 1;
	}
	return 0;
}

/* Entries of /proc/self/task: an io-wq worker would show up there and the test would prove something else */
static int nr_threads(void)
{
	char line[256];
	FILE *f;
	int n = -1;

	f = fopen("/proc/self/status", "r");
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
	unsigned sq_tail, cq_head;

	test_init(argc, argv);

	if (ring_setup()) {
		pr_perror("io_uring setup (see /proc/sys/kernel/io_uring_disabled)");
		return 1;
	}
	if (ring_works(1, 0))
		return 1;
	if (nr_threads() != 1) {
		pr_err("%d threads after using the ring (an io-wq worker?): dump would be refused for that instead\n",
		       nr_threads());
		return 1;
	}
	sq_tail = *ring.sq_tail;
	cq_head = *ring.cq_head;

	test_daemon();
	test_waitsig();

	/* Nothing may have been submitted or reaped behind our back */
	if (*ring.sq_tail != sq_tail || *ring.sq_head != sq_tail || *ring.cq_head != cq_head ||
	    *ring.cq_tail != cq_head) {
		fail("ring counters moved: sq %u/%u cq %u/%u, expected sq %u/%u cq %u/%u", *ring.sq_head,
		     *ring.sq_tail, *ring.cq_head, *ring.cq_tail, sq_tail, sq_tail, cq_head, cq_head);
		return 1;
	}
	if (ring_works(2, 1))
		return 1;

	pass();
	return 0;
}
