#include <pthread.h>
#include <sys/syscall.h>

#include "zdtmtst.h"

const char *test_doc = "Threads that each keep their own state in registers, thread-local storage and their "
		       "stack across C/R (a running counter checked against its TLS copy), with their own names "
		       "(PR_SET_NAME via pthread_setname_np); after it they all stop and report";
const char *test_author = "Stasis developers";

#define NR 4

static __thread unsigned long tls_seed;
static volatile int stop;
static pthread_barrier_t bar;

struct thr {
	pthread_t th;
	int idx, err;
	pid_t tid;
	char name[16];
};

static struct thr thrs[NR];

static void *thread_fn(void *arg)
{
	struct thr *t = arg;
	unsigned long x, n = 0;
	char buf[16];

	t->tid = syscall(SYS_gettid);
	tls_seed = 0x9e3779b97f4a7c15UL * (t->idx + 1);
	x = tls_seed;
	pthread_barrier_wait(&bar);
	while (!stop) {
		x = x * 6364136223846793005UL + 1442695040888963407UL;
		n++;
		if ((n & 0x3ff) == 0)
			usleep(1000);
	}
	/* replay from the TLS seed: the same value after n steps */
	{
		unsigned long y = tls_seed, i;

		for (i = 0; i < n; i++)
			y = y * 6364136223846793005UL + 1442695040888963407UL;
		if (y != x || tls_seed != 0x9e3779b97f4a7c15UL * (t->idx + 1))
			t->err = 1;
	}
	if (pthread_getname_np(pthread_self(), buf, sizeof(buf)) || strcmp(buf, t->name))
		t->err = 2;
	if (syscall(SYS_gettid) != t->tid)
		t->err = 3;
	return NULL;
}

int main(int argc, char **argv)
{
	int i;

	test_init(argc, argv);

	pthread_barrier_init(&bar, NULL, NR + 1);
	for (i = 0; i < NR; i++) {
		thrs[i].idx = i;
		snprintf(thrs[i].name, sizeof(thrs[i].name), "zdtm-thr-%d", i);
		if (pthread_create(&thrs[i].th, NULL, thread_fn, &thrs[i]) ||
		    pthread_setname_np(thrs[i].th, thrs[i].name)) {
			pr_perror("pthread_create");
			return 1;
		}
	}
	pthread_barrier_wait(&bar);

	test_daemon();
	test_waitsig();

	stop = 1;
	for (i = 0; i < NR; i++) {
		pthread_join(thrs[i].th, NULL);
		if (thrs[i].err) {
			fail("thread %d: %s", i, thrs[i].err == 1 ? "its state (registers/TLS) changed" :
					      thrs[i].err == 2 ? "its name changed" : "its tid changed");
			return 1;
		}
	}
	pass();
	return 0;
}
