#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>

#include "zdtmtst.h"

const char *test_doc = "Blocked signals pending over C/R: standard ones (queued once) and real-time ones queued "
		       "several times with sigqueue values, process-wide and for one thread (tgkill, "
		       "rt_tgsigqueueinfo): each comes back with its value, in order, to the right waiter";
const char *test_author = "Stasis developers";

#define NR_RT 4

static pthread_barrier_t bar;
static pid_t thread_tid;
static int thread_err;

static int take(const sigset_t *set, int signo, int value, const char *who)
{
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	int s;

	s = sigtimedwait(set, &si, &zero);
	if (s != signo) {
		fail("%s: got signal %d, expected %d", who, s, signo);
		return 1;
	}
	if (value >= 0 && si.si_value.sival_int != value) {
		fail("%s: signal %d with value %d, expected %d", who, s, si.si_value.sival_int, value);
		return 1;
	}
	return 0;
}

static void *thread_fn(void *arg)
{
	sigset_t set;
	int i;

	thread_tid = syscall(SYS_gettid);
	pthread_barrier_wait(&bar); /* the signals for us are queued */
	pthread_barrier_wait(&bar); /* C/R is over */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	if (take(&set, SIGUSR2, -1, "thread"))
		thread_err = 1;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 3);
	for (i = 0; i < NR_RT && !thread_err; i++)
		if (take(&set, SIGRTMIN + 3, 100 + i, "thread"))
			thread_err = 1;
	return NULL;
}

int main(int argc, char **argv)
{
	sigset_t all, set;
	pthread_t th;
	union sigval sv;
	siginfo_t si;
	int i;

	test_init(argc, argv);

	sigemptyset(&all);
	sigaddset(&all, SIGUSR1);
	sigaddset(&all, SIGUSR2);
	sigaddset(&all, SIGRTMIN + 2);
	sigaddset(&all, SIGRTMIN + 3);
	if (sigprocmask(SIG_BLOCK, &all, NULL) || pthread_barrier_init(&bar, NULL, 2) ||
	    pthread_create(&th, NULL, thread_fn, NULL)) {
		pr_perror("setup");
		return 1;
	}
	while (!thread_tid)
		usleep(100);
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR1); /* a standard signal is pending once */
	for (i = 0; i < NR_RT; i++) {
		sv.sival_int = i;
		if (sigqueue(getpid(), SIGRTMIN + 2, sv)) {
			pr_perror("sigqueue");
			return 1;
		}
	}
	syscall(SYS_tgkill, getpid(), thread_tid, SIGUSR2);
	for (i = 0; i < NR_RT; i++) {
		memset(&si, 0, sizeof(si));
		si.si_signo = SIGRTMIN + 3;
		si.si_code = SI_QUEUE;
		si.si_pid = getpid();
		si.si_uid = getuid();
		si.si_value.sival_int = 100 + i;
		if (syscall(SYS_rt_tgsigqueueinfo, getpid(), thread_tid, SIGRTMIN + 3, &si)) {
			pr_perror("rt_tgsigqueueinfo");
			return 1;
		}
	}
	pthread_barrier_wait(&bar);

	test_daemon();
	test_waitsig();

	pthread_barrier_wait(&bar);
	pthread_join(th, NULL);
	if (thread_err)
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (take(&set, SIGUSR1, -1, "process"))
		return 1;
	if (sigtimedwait(&set, &si, &(struct timespec){ 0, 0 }) != -1) {
		fail("SIGUSR1 was pending twice");
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 2);
	for (i = 0; i < NR_RT; i++)
		if (take(&set, SIGRTMIN + 2, i, "process"))
			return 1;
	sigemptyset(&set);
	if (sigpending(&set) || !sigisemptyset(&set)) {
		fail("signals still pending after taking them all");
		return 1;
	}
	pass();
	return 0;
}
