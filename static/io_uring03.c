#include <fcntl.h>
#include <poll.h>
#include <stdio.h>

#include "uring_common.h"

const char *test_doc = "An io_uring with a request in flight (a POLL_ADD on an empty pipe, waiting) is refused at "
		       "dump, and the tree goes on untouched: the poll completes once the pipe has data";
const char *test_author = "Stasis developers";

static struct uring r;

int main(int argc, char **argv)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe cqe;
	unsigned count;
	int p[2], ret;

	test_init(argc, argv);

	if (uring_setup(&r, 4, 0) || pipe(p)) {
		pr_perror("io_uring setup or pipe");
		return 1;
	}
	if (uring_one(&r, IORING_OP_NOP, -1, 0, NULL, 0, 0, 0, 1)) {
		pr_err("NOP\n");
		return 1;
	}
	sqe = uring_sqe(&r, 0);
	sqe->opcode = IORING_OP_POLL_ADD;
	sqe->fd = p[0];
	sqe->poll32_events = POLLIN;
	sqe->user_data = 0x9011;
	ret = uring_submit(&r, 1, 0);
	if (ret != 1) {
		pr_perror("submit POLL_ADD: %d", ret);
		return 1;
	}
	count = *r.sq_tail;
	if (*r.cq_tail != count - 1) {
		pr_err("the poll completed at once (cq tail %u)\n", *r.cq_tail);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (*r.sq_head != count || *r.sq_tail != count || *r.cq_head != count - 1 || *r.cq_tail != count - 1) {
		fail("counters moved: sq %u/%u cq %u/%u", *r.sq_head, *r.sq_tail, *r.cq_head, *r.cq_tail);
		return 1;
	}
	if (write(p[1], "x", 1) != 1) {
		fail("write");
		return 1;
	}
	ret = syscall(__NR_io_uring_enter, r.fd, 0, 1, IORING_ENTER_GETEVENTS, NULL, 0);
	if (ret < 0 || uring_reap(&r, &cqe) || cqe.user_data != 0x9011 || !(cqe.res & POLLIN)) {
		fail("the poll in flight did not complete: %d, tag %#llx res %#x", ret, (unsigned long long)cqe.user_data,
		     cqe.res);
		return 1;
	}
	pass();
	return 0;
}
