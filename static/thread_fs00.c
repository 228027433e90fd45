#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "zdtmtst.h"
#include "lock.h"

const char *test_doc = "A thread with its own fs_struct (unshare(CLONE_FS)), another cwd and umask 027: after C/R "
		       "each thread has its own cwd and umask again (getcwd, /proc/self/task/TID/cwd and status)";
const char *test_author = "Stasis developers";

#define MAIN_UMASK 022
#define THREAD_UMASK 027

static futex_t ready, go, done;
static pid_t thread_tid;
static char main_cwd[PATH_MAX], thread_cwd[PATH_MAX];
static char thread_why[2 * PATH_MAX + 128];
static int thread_verdict; /* 1 pass, 2 fail */

/* The Umask: of /proc/self/task/@tid/status, or -1 */
static int task_umask(pid_t tid)
{
	char path[64], line[256];
	int v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Umask:", 6))
			v = strtol(line + 6, NULL, 8);
	fclose(f);
	return v;
}

static int task_cwd(pid_t tid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/cwd", tid);
	n = readlink(path, buf, len - 1);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

static void *thread_fn(void *arg)
{
	char cwd[PATH_MAX];

	thread_tid = syscall(SYS_gettid);
	if (unshare(CLONE_FS) || chdir("..") || !getcwd(thread_cwd, sizeof(thread_cwd))) {
		snprintf(thread_why, sizeof(thread_why), "unshare(CLONE_FS)/chdir in the thread: %m");
		thread_verdict = 2;
	}
	umask(THREAD_UMASK);
	futex_inc_and_wake(&ready);
	futex_wait_while_eq(&go, 0);
	if (thread_verdict != 2) {
		mode_t m = umask(THREAD_UMASK);

		if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, thread_cwd)) {
			snprintf(thread_why, sizeof(thread_why), "the thread's getcwd is '%s', expected '%s'", cwd,
				 thread_cwd);
			thread_verdict = 2;
		} else if (m != THREAD_UMASK) {
			snprintf(thread_why, sizeof(thread_why), "the thread's umask is %03o, expected %03o", m,
				 THREAD_UMASK);
			thread_verdict = 2;
		} else {
			thread_verdict = 1;
		}
	}
	futex_inc_and_wake(&done);
	return NULL;
}

/* Both threads as /proc shows them */
static int check_proc(pid_t leader, const char *when)
{
	char mc[PATH_MAX], tc[PATH_MAX];
	int mu = task_umask(leader), tu = task_umask(thread_tid);

	if (task_cwd(leader, mc, sizeof(mc)) || task_cwd(thread_tid, tc, sizeof(tc))) {
		fail("%s: can't read the cwd links", when);
		return 1;
	}
	if (strcmp(mc, main_cwd) || strcmp(tc, thread_cwd)) {
		fail("%s: /proc cwd of the main thread '%s' (expected '%s'), of thread %d '%s' (expected '%s')", when,
		     mc, main_cwd, thread_tid, tc, thread_cwd);
		return 1;
	}
	if (mu != MAIN_UMASK || tu != THREAD_UMASK) {
		fail("%s: /proc Umask of the main thread %03o (expected %03o), of thread %d %03o (expected %03o)", when,
		     mu, MAIN_UMASK, thread_tid, tu, THREAD_UMASK);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char cwd[PATH_MAX];
	pid_t leader;
	pthread_t th;
	mode_t m;
	int ret = 1;

	test_init(argc, argv);
	leader = getpid();

	umask(MAIN_UMASK);
	if (!getcwd(main_cwd, sizeof(main_cwd))) {
		pr_perror("getcwd");
		return 1;
	}
	if (pthread_create(&th, NULL, thread_fn, NULL)) {
		pr_err("pthread_create\n");
		return 1;
	}
	futex_wait_until(&ready, 1);
	if (thread_verdict == 2) {
		pr_err("%s\n", thread_why);
		goto out;
	}
	if (!strcmp(main_cwd, thread_cwd)) {
		pr_err("the thread's cwd is the main one (%s)\n", main_cwd);
		goto out;
	}
	if (check_proc(leader, "before C/R"))
		goto out;

	test_daemon();
	test_waitsig();

	if (check_proc(leader, "after C/R"))
		goto out;
	m = umask(MAIN_UMASK);
	if (m != MAIN_UMASK) {
		fail("the main thread's umask is %03o, expected %03o", m, MAIN_UMASK);
		goto out;
	}
	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, main_cwd)) {
		fail("the main thread's getcwd is '%s', expected '%s'", cwd, main_cwd);
		goto out;
	}
	futex_set_and_wake(&go, 1);
	futex_wait_until(&done, 1);
	if (thread_verdict != 1) {
		fail("thread %d: %s", thread_tid, thread_why);
		goto out;
	}
	ret = 0;
out:
	futex_set_and_wake(&go, 1);
	pthread_join(th, NULL);
	if (!ret)
		pass();
	return ret;
}
