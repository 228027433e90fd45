#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>

#include "zdtmtst.h"

const char *test_doc = "Alternate signal stacks of two threads (each its own, one with SS_AUTODISARM) and a thread "
		       "without one: after C/R sigaltstack gives the same stacks, and a signal of an SA_ONSTACK "
		       "handler runs on the thread's own alternate stack";
const char *test_author = "Stasis developers";

#define STK (64 * 1024)

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

struct thr {
	pthread_t th;
	char *stack; /* NULL: none */
	int flags;
	stack_t got;
	volatile int on_alt, done, err;
};

static struct thr thrs[3];
static pthread_barrier_t bar;

static void handler(int sig)
{
	char here;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(thrs); i++)
		if (pthread_equal(thrs[i].th, pthread_self()))
			thrs[i].on_alt = thrs[i].stack && &here >= thrs[i].stack && &here < thrs[i].stack + STK ? 1 : -1;
}

static int setup(struct thr *t)
{
	stack_t ss = { .ss_sp = t->stack, .ss_size = STK, .ss_flags = t->flags };

	return t->stack ? sigaltstack(&ss, NULL) : 0;
}

static void *thread_fn(void *arg)
{
	struct thr *t = arg;

	if (setup(t))
		t->err = 1;
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar); /* after C/R */
	if (sigaltstack(NULL, &t->got))
		t->err = 2;
	pthread_kill(pthread_self(), SIGUSR1);
	t->done = 1;
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_ONSTACK };
	unsigned i;

	test_init(argc, argv);

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) || pthread_barrier_init(&bar, NULL, ARRAY_SIZE(thrs) + 1)) {
		pr_perror("setup");
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(thrs); i++) {
		if (i < 2) {
			thrs[i].stack = mmap(NULL, STK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (thrs[i].stack == MAP_FAILED) {
				pr_perror("mmap");
				return 1;
			}
		}
		thrs[i].flags = i == 1 ? SS_AUTODISARM : 0;
		if (pthread_create(&thrs[i].th, NULL, thread_fn, &thrs[i])) {
			pr_perror("pthread_create");
			return 1;
		}
	}
	pthread_barrier_wait(&bar);

	test_daemon();
	test_waitsig();

	pthread_barrier_wait(&bar);
	for (i = 0; i < ARRAY_SIZE(thrs); i++) {
		struct thr *t = &thrs[i];

		pthread_join(t->th, NULL);
		if (t->err) {
			fail("thread %u: error %d", i, t->err);
			return 1;
		}
		if (t->stack && (t->got.ss_sp != t->stack || t->got.ss_size != STK || t->got.ss_flags != t->flags)) {
			fail("thread %u: alternate stack %p size %zu flags %#x, expected %p %d %#x", i, t->got.ss_sp,
			     t->got.ss_size, t->got.ss_flags, t->stack, STK, t->flags);
			return 1;
		}
		if (!t->stack && !(t->got.ss_flags & SS_DISABLE)) {
			fail("thread %u: has an alternate stack after C/R", i);
			return 1;
		}
		if (t->on_alt != (t->stack ? 1 : -1)) {
			fail("thread %u: the handler ran %s its alternate stack", i, t->on_alt == 1 ? "on" : "off");
			return 1;
		}
	}
	pass();
	return 0;
}
