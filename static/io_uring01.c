#include <fcntl.h>
#include <stdio.h>

#include "uring_common.h"

const char *test_doc = "An idle io_uring (IORING_SETUP_CQSIZE, counters in the thousands) used before C/R keeps its "
		       "sizes, counters, ring contents and CQ flags at the same addresses, and works on after it";
const char *test_author = "Stasis developers";

#define SQ 8
#define CQ 32
#define ROUNDS 1250 /* 1250 full batches of SQ NOPs, then one pipe read: counter 10001 */

static struct uring r;

static uint64_t tag_of(unsigned n)
{
	return 0x5eed000000000000ull | n;
}

/* A batch of @n NOPs at once, reaped in order */
static int nops(unsigned n, unsigned first)
{
	struct io_uring_cqe cqe;
	unsigned i;
	int ret;

	for (i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = uring_sqe(&r, i);

		sqe->opcode = IORING_OP_NOP;
		sqe->user_data = tag_of(first + i);
	}
	ret = uring_submit(&r, n, n);
	if (ret != (int)n) {
		pr_perror("io_uring_enter of %u NOPs: %d", n, ret);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (uring_reap(&r, &cqe) || cqe.res != 0 || cqe.user_data != tag_of(first + i)) {
			pr_err("NOP %u: no CQE, or res %d tag %#llx\n", first + i, cqe.res,
			       (unsigned long long)cqe.user_data);
			return -1;
		}
	}
	return 0;
}

static int read_pipe(int rfd, int wfd, const char *msg, uint64_t tag)
{
	char buf[64] = {};
	int res;

	if (write(wfd, msg, strlen(msg)) != (ssize_t)strlen(msg)) {
		pr_perror("write");
		return -1;
	}
	res = uring_one(&r, IORING_OP_READ, rfd, 0, buf, sizeof(buf), -1, 0, tag);
	if (res != (int)strlen(msg) || memcmp(buf, msg, res)) {
		pr_err("READ of the pipe: %d \"%.*s\"\n", res, res > 0 ? res : 0, buf);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct io_uring_sqe pattern[SQ];
	uint8_t *sq_addr, *cq_addr;
	struct io_uring_sqe *sqes_addr;
	unsigned count, i, cq_flags;
	int p[2];

	test_init(argc, argv);

	if (uring_setup(&r, SQ, CQ) || r.p.sq_entries != SQ || r.p.cq_entries != CQ) {
		pr_perror("io_uring setup (%u/%u entries)", r.p.sq_entries, r.p.cq_entries);
		return 1;
	}
	if (pipe(p)) {
		pr_perror("pipe");
		return 1;
	}
	for (i = 0; i < ROUNDS; i++)
		if (nops(SQ, i * SQ))
			return 1;
	if (read_pipe(p[0], p[1], "before", 0xbef0))
		return 1;
	count = ROUNDS * SQ + 1;
	if (!uring_counters_are(&r, count)) {
		pr_err("counters sq %u/%u cq %u/%u, not %u\n", *r.sq_head, *r.sq_tail, *r.cq_head, *r.cq_tail, count);
		return 1;
	}
	/* Memory the kernel no longer reads but that is the program's: it must come back as it was */
	for (i = 0; i < SQ; i++) {
		memset(&pattern[i], 0xa0 + i, sizeof(pattern[i]));
		r.sqes[i] = pattern[i];
	}
	*r.cq_flags |= IORING_CQ_EVENTFD_DISABLED;
	cq_flags = *r.cq_flags;
	sq_addr = r.sq;
	cq_addr = r.cq;
	sqes_addr = r.sqes;

	test_daemon();
	test_waitsig();

	if (!uring_counters_are(&r, count)) {
		fail("counters after C/R: sq %u/%u cq %u/%u, expected %u", *r.sq_head, *r.sq_tail, *r.cq_head,
		     *r.cq_tail, count);
		return 1;
	}
	if (*r.sq_mask != SQ - 1 || *r.cq_mask != CQ - 1 || *r.cq_flags != cq_flags) {
		fail("masks %#x/%#x, cq flags %#x (expected %#x/%#x, %#x)", *r.sq_mask, *r.cq_mask, *r.cq_flags,
		     SQ - 1, CQ - 1, cq_flags);
		return 1;
	}
	if (r.sq != sq_addr || r.cq != cq_addr || r.sqes != sqes_addr) {
		fail("ring addresses changed");
		return 1;
	}
	for (i = 0; i < SQ; i++)
		if (memcmp(&r.sqes[i], &pattern[i], sizeof(pattern[i]))) {
			fail("SQE %u lost its contents", i);
			return 1;
		}
	/* the last CQE reaped before C/R is still in the CQ array */
	if (r.cqes[(count - 1) & (CQ - 1)].user_data != 0xbef0) {
		fail("the CQ array lost its contents: %#llx",
		     (unsigned long long)r.cqes[(count - 1) & (CQ - 1)].user_data);
		return 1;
	}
	if (nops(SQ, 100000) || nops(3, 200000) || read_pipe(p[0], p[1], "after", 0xaf7e)) {
		fail("the ring does not work after C/R");
		return 1;
	}
	if (!uring_counters_are(&r, count + SQ + 3 + 1)) {
		fail("counters did not go on from %u: sq %u/%u cq %u/%u", count, *r.sq_head, *r.sq_tail, *r.cq_head,
		     *r.cq_tail);
		return 1;
	}
	pass();
	return 0;
}
