#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>

#include "zdtmtst.h"
#include "lock.h"

const char *test_doc = "Check that per-thread CPU affinities survive C/R: the main thread on CPU 0 only, a second "
		       "thread on CPU 1 only";
const char *test_author = "Stasis developers";

static futex_t ready, go;
static pid_t thread_tid;
static int thread_err;

static void *thread_fn(void *arg)
{
	cpu_set_t s;

	thread_tid = syscall(SYS_gettid);
	CPU_ZERO(&s);
	CPU_SET(1, &s);
	if (sched_setaffinity(0, sizeof(s), &s))
		thread_err = errno;
	futex_inc_and_wake(&ready);
	futex_wait_while_eq(&go, 0);
	return NULL;
}

/* 0 if @tid may run on exactly @cpu */
static int only_on(pid_t tid, int cpu, const char *who)
{
	cpu_set_t s, want;
	int i;

	CPU_ZERO(&want);
	CPU_SET(cpu, &want);
	if (sched_getaffinity(tid, sizeof(s), &s)) {
		fail("sched_getaffinity(%d)", tid);
		return 1;
	}
	if (!CPU_EQUAL(&s, &want)) {
		char buf[256] = "";

		for (i = 0; i < CPU_SETSIZE && strlen(buf) < sizeof(buf) - 8; i++)
			if (CPU_ISSET(i, &s))
				snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %d", i);
		fail("%s %d may run on CPUs {%s }, expected {%d}", who, tid, buf, cpu);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	cpu_set_t all, s;
	pid_t tid;
	pthread_t th;
	int ret = 1;

	test_init(argc, argv);
	tid = syscall(SYS_gettid);

	if (sched_getaffinity(0, sizeof(all), &all) || !CPU_ISSET(0, &all) || !CPU_ISSET(1, &all)) {
		skip("CPUs 0 and 1 are not both available");
		test_daemon();
		test_waitsig();
		pass();
		return 0;
	}
	CPU_ZERO(&s);
	CPU_SET(0, &s);
	if (sched_setaffinity(0, sizeof(s), &s)) {
		pr_perror("sched_setaffinity");
		return 1;
	}
	if (pthread_create(&th, NULL, thread_fn, NULL)) {
		pr_err("pthread_create\n");
		return 1;
	}
	futex_wait_until(&ready, 1);
	if (thread_err) {
		errno = thread_err;
		pr_perror("sched_setaffinity in the thread");
		goto out;
	}
	if (only_on(tid, 0, "main thread") || only_on(thread_tid, 1, "thread"))
		goto out;

	test_daemon();
	test_waitsig();

	if (only_on(tid, 0, "main thread") || only_on(thread_tid, 1, "thread"))
		goto out;
	if (sched_getcpu() != 0) {
		fail("the main thread runs on CPU %d", sched_getcpu());
		goto out;
	}
	pass();
	ret = 0;
out:
	futex_set_and_wake(&go, 1);
	pthread_join(th, NULL);
	return ret;
}
