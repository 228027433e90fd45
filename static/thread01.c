#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>

#include "zdtmtst.h"
#include "lock.h"

const char *test_doc = "128 threads parked across C/R, half on a condition variable and half in FUTEX_WAIT on "
		       "their own futex word: all are woken after restore and every one reports with its TID";
const char *test_author = "Stasis developers";

#define NR_THREADS 128

struct th {
	pthread_t t;
	pid_t tid;
	futex_t word;	/* futex waiters: 0 wait, 1 go */
	int woken;	/* times the waiter came back from its wait before "go" (spurious or EINTR) */
	int reported;	/* 1 once it ran after the wake-up with the right TID, 2 wrong TID */
};

static struct th ths[NR_THREADS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int generation;	/* protected by lock */
static futex_t ready, done;

static void *thread_fn(void *arg)
{
	struct th *t = &ths[(long)arg];
	pid_t tid = syscall(SYS_gettid);

	t->tid = tid;
	if ((long)arg % 2 == 0) {
		pthread_mutex_lock(&lock);
		futex_inc_and_wake(&ready);
		while (generation == 0) {
			pthread_cond_wait(&cond, &lock);
			if (generation == 0)
				t->woken++;
		}
		pthread_mutex_unlock(&lock);
	} else {
		futex_inc_and_wake(&ready);
		while (futex_get(&t->word) == 0) {
			sys_futex(&t->word.raw, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
			if (futex_get(&t->word) == 0)
				t->woken++;
		}
	}
	t->reported = syscall(SYS_gettid) == tid ? 1 : 2;
	futex_inc_and_wake(&done);
	return NULL;
}

int main(int argc, char **argv)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	int i, tries, failed = 0;
	uint32_t c;

	test_init(argc, argv);

	for (i = 0; i < NR_THREADS; i++) {
		if (pthread_create(&ths[i].t, NULL, thread_fn, (void *)(long)i)) {
			pr_err("pthread_create %d\n", i);
			return 1;
		}
	}
	futex_wait_until(&ready, NR_THREADS);
	/* All condvar waiters are inside pthread_cond_wait once we can take the lock and see them all */
	pthread_mutex_lock(&lock);
	pthread_mutex_unlock(&lock);

	test_daemon();
	test_waitsig();

	if (futex_get(&done)) {
		fail("%u threads ran before being woken", futex_get(&done));
		return 1;
	}
	pthread_mutex_lock(&lock);
	generation = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	for (i = 1; i < NR_THREADS; i += 2) {
		futex_set(&ths[i].word, 1);
		sys_futex(&ths[i].word.raw, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}

	/* 10 s for all of them */
	for (tries = 0; (c = futex_get(&done)) < NR_THREADS && tries < 100; tries++)
		sys_futex(&done.raw, FUTEX_WAIT_PRIVATE, c, &ts, NULL, 0);
	for (i = 0; i < NR_THREADS; i++) {
		if (ths[i].reported != 1) {
			fail("thread %d (tid %d, %s waiter) %s", i, ths[i].tid, i % 2 ? "futex" : "condvar",
			     ths[i].reported ? "changed its TID" : "did not report after the wake-up");
			failed = 1;
		}
		if (ths[i].woken)
			test_msg("thread %d came back %d time(s) from its wait before the wake-up\n", i, ths[i].woken);
	}
	if (failed)
		return 1;
	for (i = 0; i < NR_THREADS; i++)
		pthread_join(ths[i].t, NULL);

	pass();
	return 0;
}
