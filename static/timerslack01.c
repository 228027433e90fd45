#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "zdtmtst.h"
#include "lock.h"

const char *test_doc = "Check that per-thread timer slack survives C/R: 123456 ns in the main thread, 654321 ns in a "
		       "second one";
const char *test_author = "Stasis developers";

#define MAIN_SLACK 123456
#define THREAD_SLACK 654321

static futex_t ready, go, done;
static long thread_before, thread_after = -1;
static int thread_err;

static void *thread_fn(void *arg)
{
	if (prctl(PR_SET_TIMERSLACK, THREAD_SLACK, 0, 0, 0))
		thread_err = errno;
	thread_before = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	futex_inc_and_wake(&ready);
	futex_wait_while_eq(&go, 0);
	thread_after = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	futex_inc_and_wake(&done);
	return NULL;
}

int main(int argc, char **argv)
{
	long before, after;
	pthread_t th;

	test_init(argc, argv);

	if (prctl(PR_SET_TIMERSLACK, MAIN_SLACK, 0, 0, 0)) {
		pr_perror("PR_SET_TIMERSLACK");
		return 1;
	}
	if (pthread_create(&th, NULL, thread_fn, NULL)) {
		pr_err("pthread_create\n");
		return 1;
	}
	futex_wait_until(&ready, 1);
	before = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (thread_err || before != MAIN_SLACK || thread_before != THREAD_SLACK) {
		pr_err("right after setting: main %ld thread %ld (errno %d)\n", before, thread_before, thread_err);
		futex_set_and_wake(&go, 1);
		pthread_join(th, NULL);
		return 1;
	}

	test_daemon();
	test_waitsig();

	after = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	futex_set_and_wake(&go, 1);
	pthread_join(th, NULL);
	if (after != MAIN_SLACK) {
		fail("main thread timer slack %ld ns, expected %d", after, MAIN_SLACK);
		return 1;
	}
	if (thread_after != THREAD_SLACK) {
		fail("second thread timer slack %ld ns, expected %d", thread_after, THREAD_SLACK);
		return 1;
	}
	pass();
	return 0;
}
