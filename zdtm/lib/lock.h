/*
 * Futex and mutex helpers for ZDTM tests, usually placed in shared memory so that
 * several processes can synchronise.  Same names and semantics as upstream CRIU's
 * test/zdtm/lib/lock.h.
 */
#ifndef ZDTM_LOCK_H
#define ZDTM_LOCK_H

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#define BUG_ON(cond)                                                           \
	do {                                                                   \
		if (cond) {                                                    \
			raise(SIGABRT);                                        \
			*(volatile unsigned long *)NULL = 0xdead0000 + __LINE__; \
		}                                                              \
	} while (0)

typedef struct {
	uint32_t raw;
} futex_t;

/* A waiter gives up when this bit is set, whatever it waits for. */
#define FUTEX_ABORT_FLAG (0x80000000)
#define FUTEX_ABORT_RAW (-1U)

static inline long sys_futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *timeout,
			     uint32_t *uaddr2, uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
}

static inline uint32_t futex_get(futex_t *f)
{
	return __atomic_load_n(&f->raw, __ATOMIC_SEQ_CST);
}

static inline void futex_set(futex_t *f, uint32_t v)
{
	__atomic_store_n(&f->raw, v, __ATOMIC_SEQ_CST);
}

#define futex_init(f) futex_set(f, 0)

/* Not FUTEX_PRIVATE: the word may live in memory shared between processes. */
static inline void futex_wake_all(futex_t *f)
{
	BUG_ON(sys_futex(&f->raw, FUTEX_WAKE, INT_MAX, NULL, NULL, 0) < 0);
}

static inline void futex_set_and_wake(futex_t *f, uint32_t v)
{
	futex_set(f, v);
	futex_wake_all(f);
}

static inline void futex_abort_and_wake(futex_t *f)
{
	futex_set_and_wake(f, FUTEX_ABORT_RAW);
}

static inline void futex_inc_and_wake(futex_t *f)
{
	__atomic_add_fetch(&f->raw, 1, __ATOMIC_SEQ_CST);
	futex_wake_all(f);
}

static inline void futex_dec_and_wake(futex_t *f)
{
	__atomic_sub_fetch(&f->raw, 1, __ATOMIC_SEQ_CST);
	futex_wake_all(f);
}

/* Plain (non-waking) increment and decrement */
static inline void futex_inc(futex_t *f)
{
	__atomic_add_fetch(&f->raw, 1, __ATOMIC_SEQ_CST);
}

static inline void futex_dec(futex_t *f)
{
	__atomic_sub_fetch(&f->raw, 1, __ATOMIC_SEQ_CST);
}

/*
 * Sleep until "value __cond __v" holds (or the abort flag is set).  FUTEX_WAIT
 * re-checks the value in the kernel, so a wake between our load and the
 * syscall is not lost; EAGAIN/EINTR just mean "look again".
 */
#define futex_wait_if_cond(__f, __v, __cond)                                             \
	do {                                                                             \
		uint32_t __tmp;                                                          \
		long __ret;                                                              \
		while (1) {                                                              \
			__tmp = futex_get(__f);                                          \
			if ((__tmp & FUTEX_ABORT_FLAG) || (__tmp __cond(__v)))           \
				break;                                                   \
			__ret = sys_futex(&(__f)->raw, FUTEX_WAIT, __tmp, NULL, NULL, 0); \
			BUG_ON(__ret < 0 && errno != EAGAIN && errno != EINTR);          \
		}                                                                        \
	} while (0)

/* Wait until the value becomes @v */
static inline void futex_wait_until(futex_t *f, uint32_t v)
{
	futex_wait_if_cond(f, v, ==);
}

/* Wait while the value is greater than @v */
static inline void futex_wait_while_gt(futex_t *f, uint32_t v)
{
	futex_wait_if_cond(f, v, <=);
}

/* Wait while the value is less than @v */
static inline void futex_wait_while_lt(futex_t *f, uint32_t v)
{
	futex_wait_if_cond(f, v, >=);
}

/* Wait while the value is @v */
static inline void futex_wait_while_eq(futex_t *f, uint32_t v)
{
	futex_wait_if_cond(f, v, !=);
}

/* Wait while the value is @v (no abort flag check); returns the new value */
static inline uint32_t futex_wait_while(futex_t *f, uint32_t v)
{
	long ret;

	while (futex_get(f) == v) {
		ret = sys_futex(&f->raw, FUTEX_WAIT, v, NULL, NULL, 0);
		BUG_ON(ret < 0 && errno != EAGAIN && errno != EINTR);
	}
	return futex_get(f);
}

typedef struct {
	uint32_t raw;
} mutex_t;

static inline void mutex_init(mutex_t *m)
{
	__atomic_store_n(&m->raw, 0, __ATOMIC_SEQ_CST);
}

/*
 * raw counts lockers: 0 is free; the one that moved it from 0 owns the lock,
 * everybody else sleeps on the value they produced and retries when woken.
 */
static inline void mutex_lock(mutex_t *m)
{
	uint32_t c;
	long ret;

	while ((c = __atomic_fetch_add(&m->raw, 1, __ATOMIC_SEQ_CST))) {
		ret = sys_futex(&m->raw, FUTEX_WAIT, c + 1, NULL, NULL, 0);
		BUG_ON(ret < 0 && errno != EAGAIN && errno != EINTR);
	}
}

static inline void mutex_unlock(mutex_t *m)
{
	__atomic_store_n(&m->raw, 0, __ATOMIC_SEQ_CST);
	BUG_ON(sys_futex(&m->raw, FUTEX_WAKE, 1, NULL, NULL, 0) < 0);
}

#endif /* ZDTM_LOCK_H */
