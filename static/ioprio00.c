#include <pthread.h>
#include <sys/syscall.h>

#include "zdtmtst.h"
#include "lock.h"

const char *test_doc = "Check that per-thread I/O priorities survive C/R: best-effort level 6 for the main thread, "
		       "idle for a second thread";
const char *test_author = "Stasis developers";

#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_PRIO_VALUE(class, data) (((class) << IOPRIO_CLASS_SHIFT) | (data))
#define IOPRIO_CLASS_BE 2
#define IOPRIO_CLASS_IDLE 3
#define IOPRIO_WHO_PROCESS 1

#define MAIN_PRIO IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 6)
#define THREAD_PRIO IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0)

static futex_t ready, go;
static pid_t thread_tid;
static int thread_err;

static int ioprio_get(pid_t tid)
{
	return syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, tid);
}

static void *thread_fn(void *arg)
{
	thread_tid = syscall(SYS_gettid);
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, THREAD_PRIO))
		thread_err = errno;
	futex_inc_and_wake(&ready);
	futex_wait_while_eq(&go, 0);
	return NULL;
}

int main(int argc, char **argv)
{
	pid_t tid = syscall(SYS_gettid);
	int m, t, ret = 1;
	pthread_t th;

	test_init(argc, argv);
	tid = syscall(SYS_gettid);

	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, MAIN_PRIO)) {
		pr_perror("ioprio_set");
		return 1;
	}
	if (pthread_create(&th, NULL, thread_fn, NULL)) {
		pr_err("pthread_create\n");
		return 1;
	}
	futex_wait_until(&ready, 1);
	if (thread_err) {
		errno = thread_err;
		pr_perror("ioprio_set in the thread");
		goto out;
	}
	m = ioprio_get(tid);
	t = ioprio_get(thread_tid);
	if (m != MAIN_PRIO || t != THREAD_PRIO) {
		pr_err("right after setting: main %#x thread %#x, expected %#x %#x\n", m, t, MAIN_PRIO, THREAD_PRIO);
		goto out;
	}

	test_daemon();
	test_waitsig();

	m = ioprio_get(tid);
	t = ioprio_get(thread_tid);
	if (m != MAIN_PRIO) {
		fail("main thread %d ioprio %#x, expected %#x (best-effort 6)", tid, m, MAIN_PRIO);
		goto out;
	}
	if (t != THREAD_PRIO) {
		fail("thread %d ioprio %#x, expected %#x (idle)", thread_tid, t, THREAD_PRIO);
		goto out;
	}
	pass();
	ret = 0;
out:
	futex_set_and_wake(&go, 1);
	pthread_join(th, NULL);
	return ret;
}
