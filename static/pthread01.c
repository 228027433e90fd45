#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>

#include "zdtmtst.h"

const char *test_doc = "Threads with different signal masks, one waiting in sigwaitinfo and one sleeping in "
		       "nanosleep: after C/R each mask is its own, the waiter takes the signal sent to it "
		       "(tgkill) and the sleeper's handler runs on the sleeper";
const char *test_author = "Stasis developers";

static pthread_barrier_t bar;
static volatile pid_t handler_tid, sleeper_tid, waiter_tid;
static volatile int waiter_got;

static void handler(int sig)
{
	handler_tid = syscall(SYS_gettid);
}

static int mask_has(int sig)
{
	sigset_t cur;

	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, sig);
}

static void *waiter(void *arg)
{
	sigset_t set;
	siginfo_t si;
	int ret;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	waiter_tid = syscall(SYS_gettid);
	pthread_barrier_wait(&bar);
	sigdelset(&set, SIGHUP);
	while ((ret = sigwaitinfo(&set, &si)) < 0 && errno == EINTR)
		; /* C/R interrupts the wait, as any stop does */
	if (ret == SIGUSR1 && mask_has(SIGHUP) && mask_has(SIGUSR1) && mask_has(SIGUSR2))
		waiter_got = 1;
	else
		waiter_got = -1;
	return NULL;
}

static void *sleeper(void *arg)
{
	sigset_t set;
	int i;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	sleeper_tid = syscall(SYS_gettid);
	pthread_barrier_wait(&bar);
	for (i = 0; i < 600 && !handler_tid; i++) {
		struct timespec ts = { 0, 50000000 };

		nanosleep(&ts, NULL);
	}
	if (!mask_has(SIGUSR1) || mask_has(SIGUSR2))
		handler_tid = -1;
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = handler };
	pthread_t w, s;
	sigset_t set;

	test_init(argc, argv);

	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	if (sigaction(SIGUSR2, &sa, NULL) || pthread_sigmask(SIG_BLOCK, &set, NULL) ||
	    pthread_barrier_init(&bar, NULL, 3) || pthread_create(&w, NULL, waiter, NULL) ||
	    pthread_create(&s, NULL, sleeper, NULL)) {
		pr_perror("setup");
		return 1;
	}
	pthread_barrier_wait(&bar);

	test_daemon();
	test_waitsig();

	if (!mask_has(SIGUSR2) || mask_has(SIGUSR1)) {
		fail("the main thread's mask changed");
		return 1;
	}
	syscall(SYS_tgkill, getpid(), sleeper_tid, SIGUSR2);
	syscall(SYS_tgkill, getpid(), waiter_tid, SIGUSR1);
	pthread_join(w, NULL);
	pthread_join(s, NULL);
	if (waiter_got != 1) {
		fail("the waiter did not take SIGUSR1 with its mask kept");
		return 1;
	}
	if (handler_tid != sleeper_tid) {
		fail("the handler ran on %d, not on the sleeper %d (-1: the sleeper's mask changed)", handler_tid,
		     sleeper_tid);
		return 1;
	}
	pass();
	return 0;
}
