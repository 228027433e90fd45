#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>

#include "zdtmtst.h"

const char *test_doc = "Threads blocked in FUTEX_WAIT on private futexes, and a pthread mutex held by the main "
		       "thread with waiters: after C/R the futex words are the same, every waiter wakes on "
		       "FUTEX_WAKE, the mutex waiters get it one after the other";
const char *test_author = "Stasis developers";

#define NR 3

static uint32_t word = 7;
static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static volatile int woken, locked;

static long futex(uint32_t *uaddr, int op, uint32_t val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

static void *waiter(void *arg)
{
	while (__atomic_load_n(&word, __ATOMIC_SEQ_CST) == 7)
		futex(&word, FUTEX_WAIT_PRIVATE, 7);
	__atomic_add_fetch(&woken, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *locker(void *arg)
{
	pthread_mutex_lock(&mtx);
	__atomic_add_fetch(&locked, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&mtx);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t w[NR], l[NR];
	int i;

	test_init(argc, argv);

	pthread_mutex_lock(&mtx);
	for (i = 0; i < NR; i++)
		if (pthread_create(&w[i], NULL, waiter, NULL) || pthread_create(&l[i], NULL, locker, NULL)) {
			pr_perror("pthread_create");
			return 1;
		}
	usleep(100000);

	test_daemon();
	test_waitsig();

	if (word != 7 || woken || locked) {
		fail("futex word %u, %d woken, %d locked before the wake", word, woken, locked);
		return 1;
	}
	__atomic_store_n(&word, 8, __ATOMIC_SEQ_CST);
	futex(&word, FUTEX_WAKE_PRIVATE, NR);
	pthread_mutex_unlock(&mtx);
	for (i = 0; i < NR; i++) {
		pthread_join(w[i], NULL);
		pthread_join(l[i], NULL);
	}
	if (woken != NR || locked != NR) {
		fail("%d of %d waiters woke, %d of %d lockers locked", woken, NR, locked, NR);
		return 1;
	}
	pass();
	return 0;
}
