#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "zdtmtst.h"
#include "lock.h"

const char *test_doc = "A child forked by a non-leader thread: its parent is that thread. After C/R "
		       "/proc/self/task/<thread>/children must list it and the leader's children file must not";
const char *test_author = "Stasis developers";

static futex_t ready, go;
static pid_t thread_tid, child_pid;

static void *thread_fn(void *arg)
{
	thread_tid = syscall(SYS_gettid);
	child_pid = fork();
	if (child_pid == 0) {
		/* the parent is this thread: it lives until the test has reaped the child */
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		while (1)
			pause();
	}
	futex_inc_and_wake(&ready);
	futex_wait_while_eq(&go, 0);
	return NULL;
}

/* 1 if /proc/self/task/@tid/children lists @pid, 0 if not, -1 on error */
static int lists(pid_t tid, pid_t pid, char *buf, size_t len)
{
	char path[64], *tok, *save, copy[512];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", tid);
	buf[0] = 0;
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, len, f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	snprintf(copy, sizeof(copy), "%s", buf);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (atoi(tok) == pid)
			found = 1;
	return found;
}

static int check(pid_t leader, const char *when)
{
	char tbuf[512], lbuf[512];
	int t = lists(thread_tid, child_pid, tbuf, sizeof(tbuf));
	int l = lists(leader, child_pid, lbuf, sizeof(lbuf));

	if (t != 1 || l != 0) {
		fail("%s: child %d: thread %d's children '%s' (listed %d), leader %d's children '%s' (listed %d)",
		     when, child_pid, thread_tid, tbuf, t, leader, lbuf, l);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	pid_t leader;
	pthread_t th;
	int ret = 1, status;

	test_init(argc, argv);
	leader = getpid();

	if (pthread_create(&th, NULL, thread_fn, NULL)) {
		pr_err("pthread_create\n");
		return 1;
	}
	futex_wait_until(&ready, 1);
	if (child_pid < 0) {
		pr_err("fork in the thread failed\n");
		goto out;
	}
	if (check(leader, "before C/R"))
		goto kill;

	test_daemon();
	test_waitsig();

	if (check(leader, "after C/R"))
		goto kill;
	ret = 0;
kill:
	kill(child_pid, SIGKILL);
	if (waitpid(child_pid, &status, 0) != child_pid) {
		fail("waitpid of the thread's child %d", child_pid);
		ret = 1;
	}
out:
	futex_set_and_wake(&go, 1);
	pthread_join(th, NULL);
	if (!ret)
		pass();
	return ret;
}
