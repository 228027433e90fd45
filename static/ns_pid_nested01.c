#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "zdtmtst.h"
#include "ns_ready.h"

const char *test_doc = "Sessions, groups, signals and a thread-targeted timer inside a nested pid namespace: "
		       "its init leads a session there, one member leads a group that another joins; the joiner "
		       "has a blocked signal pending and a POSIX timer aimed at its thread (SIGEV_THREAD_ID). "
		       "After C/R getsid/getpgid as seen inside, the pending signal and the timer's target hold";
const char *test_author = "Stasis developers";

static volatile pid_t thread_tid, fired_in;

static void on_timer(int sig)
{
	fired_in = syscall(SYS_gettid);
}

static void *thread_fn(void *arg)
{
	thread_tid = syscall(SYS_gettid);
	for (;;)
		pause();
	return arg;
}

/* joins the leader's group; SIGUSR1 pending; a timer aimed at its thread */
static int joiner(pid_t leader)
{
	struct sigevent sev = {};
	struct itimerspec its = {};
	pthread_t th;
	sigset_t set;
	timer_t timer;
	pid_t tid;
	int i;

	if (setpgid(0, leader))
		return 70;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) || kill(getpid(), SIGUSR1))
		return 71;
	if (signal(SIGUSR2, on_timer) == SIG_ERR || pthread_create(&th, NULL, thread_fn, NULL))
		return 72;
	while (!thread_tid)
		usleep(1000);
	tid = thread_tid;
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGUSR2;
	sev._sigev_un._tid = tid;
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer))
		return 73;
	ns_say_ready();
	ns_wait_go();
	if (getpgid(0) != leader || getsid(0) != 1) {
		fprintf(stderr, "joiner: group %d (want %d), session %d (want 1)\n", getpgid(0), leader, getsid(0));
		return 74;
	}
	if (sigpending(&set) || !sigismember(&set, SIGUSR1)) {
		fprintf(stderr, "joiner: SIGUSR1 is not pending any more\n");
		return 75;
	}
	its.it_value.tv_nsec = 1000000;
	if (timer_settime(timer, 0, &its, NULL))
		return 76;
	for (i = 0; i < 2000 && !fired_in; i++)
		usleep(1000);
	if (fired_in != tid || thread_tid != tid) {
		fprintf(stderr, "joiner: the timer fired in %d, not in its thread %d\n", fired_in, tid);
		return 77;
	}
	return 0;
}

static int leader_fn(void)
{
	if (setpgid(0, 0))
		return 60;
	ns_say_ready();
	ns_wait_go();
	if (getpgid(0) != getpid() || getsid(0) != 1) {
		fprintf(stderr, "leader: group %d, session %d\n", getpgid(0), getsid(0));
		return 61;
	}
	return 0;
}

static int init_fn(void)
{
	pid_t leader, member;
	int st, p[2];
	char c;

	if (setsid() != 1 || pipe(p))
		return 50;
	leader = fork();
	if (leader == 0)
		_exit(leader_fn());
	member = fork();
	if (member == 0) {
		while (getpgid(leader) != leader)
			usleep(1000);
		_exit(joiner(leader));
	}
	ns_say_ready();
	ns_wait_go();
	if (getsid(0) != 1 || getpgid(0) != 1)
		return 51;
	if (waitpid(member, &st, 0) != member || !WIFEXITED(st) || WEXITSTATUS(st) ||
	    waitpid(leader, &st, 0) != leader || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "init: a child's status %#x\n", st);
		return 52;
	}
	(void)c;
	return 0;
}

int main(int argc, char **argv)
{
	pid_t init;
	int st;

	test_init(argc, argv);

	if (ns_ready_init() || unshare(CLONE_NEWPID)) {
		pr_perror("pipe/unshare(CLONE_NEWPID)");
		return 1;
	}
	init = fork();
	if (init < 0) {
		pr_perror("fork");
		return 1;
	}
	if (init == 0)
		_exit(init_fn());
	if (ns_wait_ready(3))
		return 1;

	test_daemon();
	test_waitsig();

	if (ns_go(3))
		return 1;
	if (waitpid(init, &st, 0) != init || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fail("the nested namespace's processes found their state changed (status %#x)", st);
		return 1;
	}
	pass();
	return 0;
}
