/* Helpers for the io_uring programs: a ring set up and mapped by hand (no liburing), one SQE at a time */
#ifndef ZDTM_STATIC_URING_COMMON_H
#define ZDTM_STATIC_URING_COMMON_H

#include <errno.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

struct uring {
	int fd;
	struct io_uring_params p;
	uint8_t *sq, *cq;
	size_t sq_len, cq_len, sqes_len;
	struct io_uring_sqe *sqes;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_array, *sq_flags;
	unsigned *cq_head, *cq_tail, *cq_mask, *cq_flags;
	struct io_uring_cqe *cqes;
};

/* @cq_entries 0: the default size (twice @entries); else IORING_SETUP_CQSIZE */
static inline int uring_setup(struct uring *r, unsigned entries, unsigned cq_entries)
{
	memset(r, 0, sizeof(*r));
	if (cq_entries) {
		r->p.flags = IORING_SETUP_CQSIZE;
		r->p.cq_entries = cq_entries;
	}
	r->fd = syscall(__NR_io_uring_setup, entries, &r->p);
	if (r->fd < 0)
		return -1;
	r->sq_len = r->p.sq_off.array + r->p.sq_entries * sizeof(unsigned);
	r->cq_len = r->p.cq_off.cqes + r->p.cq_entries * sizeof(struct io_uring_cqe);
	r->sqes_len = r->p.sq_entries * sizeof(struct io_uring_sqe);
	r->sq = mmap(NULL, r->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
	r->cq = mmap(NULL, r->cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
	r->sqes = mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
	if (r->sq == MAP_FAILED || r->cq == MAP_FAILED || r->sqes == MAP_FAILED)
		return -1;
	r->sq_head = (unsigned *)(r->sq + r->p.sq_off.head);
	r->sq_tail = (unsigned *)(r->sq + r->p.sq_off.tail);
	r->sq_mask = (unsigned *)(r->sq + r->p.sq_off.ring_mask);
	r->sq_array = (unsigned *)(r->sq + r->p.sq_off.array);
	r->sq_flags = (unsigned *)(r->sq + r->p.sq_off.flags);
	r->cq_head = (unsigned *)(r->cq + r->p.cq_off.head);
	r->cq_tail = (unsigned *)(r->cq + r->p.cq_off.tail);
	r->cq_mask = (unsigned *)(r->cq + r->p.cq_off.ring_mask);
	r->cq_flags = (unsigned *)(r->cq + r->p.cq_off.flags);
	r->cqes = (struct io_uring_cqe *)(r->cq + r->p.cq_off.cqes);
	return 0;
}

/* The next free SQE, zeroed, with its slot put in the index array (not yet visible to the kernel) */
static inline struct io_uring_sqe *uring_sqe(struct uring *r, unsigned nth)
{
	unsigned tail = __atomic_load_n(r->sq_tail, __ATOMIC_ACQUIRE) + nth, idx = tail & *r->sq_mask;
	struct io_uring_sqe *sqe = &r->sqes[idx];

	memset(sqe, 0, sizeof(*sqe));
	r->sq_array[idx] = idx;
	return sqe;
}

/* Make @n prepared SQEs visible and submit them; returns what io_uring_enter returns */
static inline int uring_submit(struct uring *r, unsigned n, unsigned wait)
{
	unsigned tail = __atomic_load_n(r->sq_tail, __ATOMIC_ACQUIRE);

	__atomic_store_n(r->sq_tail, tail + n, __ATOMIC_RELEASE);
	return syscall(__NR_io_uring_enter, r->fd, n, wait, wait ? IORING_ENTER_GETEVENTS : 0, NULL, 0);
}

/* Reap one CQE; -1 if none is there */
static inline int uring_reap(struct uring *r, struct io_uring_cqe *out)
{
	unsigned head = __atomic_load_n(r->cq_head, __ATOMIC_ACQUIRE);

	if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
		return -1;
	*out = r->cqes[head & *r->cq_mask];
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return 0;
}

/* One SQE of @op submitted and its CQE reaped: the CQE's res, or -10000 - errno of a failed step */
static inline int uring_one(struct uring *r, uint8_t op, int fd, uint8_t sqe_flags, void *addr, unsigned len,
			    uint64_t off, uint16_t buf_index, uint64_t tag)
{
	struct io_uring_sqe *sqe = uring_sqe(r, 0);
	struct io_uring_cqe cqe;
	int ret;

	sqe->opcode = op;
	sqe->fd = fd;
	sqe->flags = sqe_flags;
	sqe->addr = (unsigned long)addr;
	sqe->len = len;
	sqe->off = off;
	sqe->buf_index = buf_index;
	sqe->user_data = tag;
	ret = uring_submit(r, 1, 1);
	if (ret != 1)
		return -10000 - (ret < 0 ? errno : 0);
	if (uring_reap(r, &cqe))
		return -20000;
	if (cqe.user_data != tag)
		return -30000;
	return cqe.res;
}

/* Counters of both rings: all four are equal on an idle ring */
static inline int uring_counters_are(struct uring *r, unsigned want)
{
	return *r->sq_head == want && *r->sq_tail == want && *r->cq_head == want && *r->cq_tail == want;
}

#endif
