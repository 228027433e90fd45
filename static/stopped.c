#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "zdtmtst.h"

/*
 * stopped: the child stops itself (raise SIGSTOP). Upstream's variants by define: stopped01
 * (ZDTM_STOPPED_KILL: the parent stops it with kill), stopped02 (ZDTM_STOPPED_TKILL: the parent stops one
 * of its threads with tgkill: the whole group stops), stopped12 (both: stopped by kill, continued, stopped by tgkill).
 */
const char *test_doc = "A two-threaded child in group stop (stopped by itself, by kill or by tgkill, by build): "
		       "after C/R both threads are in state T, and SIGCONT makes it go on and exit";
const char *test_author = "Stasis developers";

static int tidpipe[2];
static volatile pid_t thread_tid;

static void *thread_fn(void *arg)
{
	thread_tid = syscall(SYS_gettid);
	while (1)
		pause();
	return NULL;
}

static char state_of(pid_t pid, pid_t tid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return '?';
	}
	fclose(f);
	p = strrchr(buf, ')');
	return p && p[1] && p[2] ? p[2] : '?';
}

int main(int argc, char **argv)
{
	pid_t pid, tid;
	pthread_t th;
	int status;

	test_init(argc, argv);

	if (pipe(tidpipe)) {
		pr_perror("pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (pthread_create(&th, NULL, thread_fn, NULL))
			_exit(11);
		/* the thread's id goes to the parent once pthread_create is over (its mask given back) */
		while (!thread_tid)
			usleep(100);
		if (write(tidpipe[1], (pid_t *)&thread_tid, sizeof(pid_t)) != sizeof(pid_t))
			_exit(10);
#if !defined(ZDTM_STOPPED_KILL) && !defined(ZDTM_STOPPED_TKILL)
		raise(SIGSTOP);
#endif
		while (1)
			pause();
	}
	if (read(tidpipe[0], &tid, sizeof(tid)) != sizeof(tid)) {
		pr_perror("read tid");
		goto err;
	}
#ifdef ZDTM_STOPPED_KILL
	if (kill(pid, SIGSTOP)) {
		pr_perror("kill");
		goto err;
	}
#endif
#ifdef ZDTM_STOPPED_TKILL
#ifdef ZDTM_STOPPED_KILL
	/* stopped by kill, continued, then stopped again by tgkill */
	if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status) || kill(pid, SIGCONT) ||
	    waitpid(pid, &status, WCONTINUED) != pid || !WIFCONTINUED(status)) {
		pr_err("the child did not stop on kill and go on on SIGCONT\n");
		goto err;
	}
#endif
	if (syscall(SYS_tgkill, pid, tid, SIGSTOP)) {
		pr_perror("tgkill");
		goto err;
	}
#endif
	if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP) {
		pr_err("the child did not stop: %#x\n", status);
		goto err;
	}
	/* both threads in T before the dump (group stop may take a moment to reach the second) */
	for (status = 0; status < 1000 && (state_of(pid, pid) != 'T' || state_of(pid, tid) != 'T'); status++)
		usleep(1000);
	if (state_of(pid, pid) != 'T' || state_of(pid, tid) != 'T') {
		pr_err("the child is not stopped: %c %c\n", state_of(pid, pid), state_of(pid, tid));
		goto err;
	}

	test_daemon();
	test_waitsig();

	if (state_of(pid, pid) != 'T' || state_of(pid, tid) != 'T') {
		fail("the child is not stopped after C/R: leader %c, thread %c", state_of(pid, pid), state_of(pid, tid));
		goto err;
	}
	if (kill(pid, SIGCONT)) {
		fail("SIGCONT");
		goto err;
	}
	if (waitpid(pid, &status, WCONTINUED) != pid || !WIFCONTINUED(status)) {
		fail("no continue report: %#x", status);
		goto err;
	}
	if (state_of(pid, tid) == 'T') {
		usleep(10000);
		if (state_of(pid, tid) == 'T') {
			fail("the thread is still stopped after SIGCONT");
			goto err;
		}
	}
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
		fail("the child's end: %#x", status);
		return 1;
	}
	pass();
	return 0;
err:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 1;
}
