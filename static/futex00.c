#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>

#include "zdtmtst.h"
#include "lock.h"

const char *test_doc = "Threads blocked in FUTEX_WAIT (shared, private, bitset with an absolute deadline) and in "
		       "pthread_mutex_lock() on a robust mutex held by another thread: after C/R the waiters wake, "
		       "and the owner exiting without unlocking gives the waiter EOWNERDEAD (robust list, "
		       "clear_child_tid)";
const char *test_author = "Stasis developers";

#define NR_WAITERS 4

static futex_t word_shared, word_private;
static futex_t ready, woken;
static pthread_mutex_t robust;
static futex_t owner_die;
static pid_t owner_tid;
static int lock_ret = -1;	/* what the robust waiter got from pthread_mutex_lock */
static futex_t lock_done;

static void *waiter(void *arg)
{
	long kind = (long)arg;
	struct timespec dl;

	futex_inc_and_wake(&ready);
	switch (kind) {
	case 0:
	case 1:
		while (futex_get(&word_shared) == 0)
			sys_futex(&word_shared.raw, FUTEX_WAIT, 0, NULL, NULL, 0);
		break;
	case 2:
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_sec += 3600;
		while (futex_get(&word_shared) == 0)
			sys_futex(&word_shared.raw, FUTEX_WAIT_BITSET, 0, &dl, NULL, FUTEX_BITSET_MATCH_ANY);
		break;
	case 3:
		while (futex_get(&word_private) == 0)
			sys_futex(&word_private.raw, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
		break;
	}
	futex_inc_and_wake(&woken);
	return NULL;
}

static void *owner(void *arg)
{
	owner_tid = syscall(SYS_gettid);
	if (pthread_mutex_lock(&robust))
		owner_tid = -1;
	futex_inc_and_wake(&ready);
	futex_wait_while_eq(&owner_die, 0);
	/*
	 * Die holding the lock, straight through the syscall: the kernel walks the robust list
	 * (set_robust_list) and clears the TID word (clear_child_tid) that pthread_join waits on.
	 */
	syscall(SYS_exit, 0);
	return NULL;
}

static void *robust_waiter(void *arg)
{
	futex_inc_and_wake(&ready);
	lock_ret = pthread_mutex_lock(&robust);
	if (lock_ret == EOWNERDEAD) {
		pthread_mutex_consistent(&robust);
		pthread_mutex_unlock(&robust);
	}
	futex_set_and_wake(&lock_done, 1);
	return NULL;
}

static int wait_ge(futex_t *f, uint32_t v, int secs)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	int i;

	for (i = 0; i < secs * 10; i++) {
		uint32_t c = futex_get(f);

		if (c >= v)
			return 0;
		sys_futex(&f->raw, FUTEX_WAIT, c, &ts, NULL, 0);
	}
	return futex_get(f) >= v ? 0 : -1;
}

/* glibc keeps the futex word of a mutex in __data.__lock: owner TID | FUTEX_WAITERS | FUTEX_OWNER_DIED */
static uint32_t lock_word(void)
{
	return __atomic_load_n((uint32_t *)&robust.__data.__lock, __ATOMIC_SEQ_CST);
}

int main(int argc, char **argv)
{
	pthread_t wt[NR_WAITERS], ot, rt;
	pthread_mutexattr_t ma;
	struct timespec dl;
	long i;
	int ret, tries;

	test_init(argc, argv);

	pthread_mutexattr_init(&ma);
	if (pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST) || pthread_mutex_init(&robust, &ma)) {
		pr_err("robust mutex init\n");
		return 1;
	}
	for (i = 0; i < NR_WAITERS; i++)
		if (pthread_create(&wt[i], NULL, waiter, (void *)i)) {
			pr_err("pthread_create\n");
			return 1;
		}
	if (pthread_create(&ot, NULL, owner, NULL)) {
		pr_err("pthread_create\n");
		return 1;
	}
	futex_wait_until(&ready, NR_WAITERS + 1);
	if (owner_tid <= 0) {
		pr_err("the owner could not lock the robust mutex\n");
		return 1;
	}
	if (pthread_create(&rt, NULL, robust_waiter, NULL)) {
		pr_err("pthread_create\n");
		return 1;
	}
	/* Wait until the robust waiter sleeps in the kernel: FUTEX_WAITERS is set in the lock word */
	for (tries = 0; lock_word() != (FUTEX_WAITERS | (uint32_t)owner_tid); tries++) {
		if (tries > 2000) {
			pr_err("lock word %#x, expected %#x\n", lock_word(), FUTEX_WAITERS | owner_tid);
			return 1;
		}
		usleep(5000);
	}
	usleep(100000); /* and the futex waiters are in FUTEX_WAIT by now */

	test_daemon();
	test_waitsig();

	if (futex_get(&woken) || futex_get(&lock_done)) {
		fail("waiters finished before the wake-up: %u futex waiters, robust waiter %u (ret %d)",
		     futex_get(&woken), futex_get(&lock_done), lock_ret);
		return 1;
	}
	if (lock_word() != (FUTEX_WAITERS | (uint32_t)owner_tid)) {
		fail("robust lock word %#x after C/R, expected %#x", lock_word(), FUTEX_WAITERS | owner_tid);
		return 1;
	}

	futex_set_and_wake(&word_shared, 1);
	futex_set(&word_private, 1);
	sys_futex(&word_private.raw, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	if (wait_ge(&woken, NR_WAITERS, 10)) {
		fail("only %u of %d futex waiters woke up", futex_get(&woken), NR_WAITERS);
		return 1;
	}
	for (i = 0; i < NR_WAITERS; i++)
		pthread_join(wt[i], NULL);

	/* The owner dies holding the robust mutex */
	futex_set_and_wake(&owner_die, 1);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 10;
	ret = pthread_timedjoin_np(ot, NULL, &dl);
	if (ret) {
		errno = ret;
		fail("the owner thread %d can't be joined (clear_child_tid lost?)", owner_tid);
		return 1;
	}
	if (wait_ge(&lock_done, 1, 10)) {
		fail("the robust waiter is still blocked after the owner died (lock word %#x)", lock_word());
		return 1;
	}
	if (lock_ret != EOWNERDEAD) {
		errno = lock_ret;
		fail("pthread_mutex_lock after the owner died returned %d, expected EOWNERDEAD", lock_ret);
		return 1;
	}
	pthread_join(rt, NULL);
	if (pthread_mutex_trylock(&robust)) {
		fail("the robust mutex is not usable after recovery");
		return 1;
	}
	pthread_mutex_unlock(&robust);

	pass();
	return 0;
}
