#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that queued blocked signals (standard and realtime, process-wide and per-thread, "
		       "with their siginfo) survive C/R in order and count";
const char *test_author = "Stasis developers";

#define RT_SHARED (SIGRTMIN + 3)
#define RT_PRIVATE (SIGRTMIN + 7)
#define MY_CODE SI_MESGQ	/* a negative si_code the kernel lets a task send to itself */

struct expect {
	int sig;
	int code;
	int value;
};

/*
 * Dequeue order is fixed by the kernel: the thread's private queue before the shared one, in each the
 * lowest signal number first, and instances of one realtime signal in the order they were queued.
 */
static struct expect expected[8];
static int nexpected;

static int queue_shared(int sig, int value)
{
	union sigval v = { .sival_int = value };

	if (sigqueue(getpid(), sig, v))
		return pr_perror("sigqueue(%d, %#x)", sig, value);
	return 0;
}

static int queue_private(int sig, int value)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = MY_CODE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = value;
	if (syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), sig, &si))
		return pr_perror("rt_tgsigqueueinfo(%d, %#x)", sig, value);
	return 0;
}

static void add_expect(int sig, int code, int value)
{
	expected[nexpected++] = (struct expect){ sig, code, value };
}

static int check_pending(sigset_t *want, int restored)
{
	sigset_t pend;
	int sig;

	if (sigpending(&pend)) {
		if (restored)
			fail("sigpending");
		return 1;
	}
	for (sig = 1; sig <= SIGRTMAX; sig++) {
		if (sig == 32 || sig == 33)
			continue;
		if (sigismember(&pend, sig) != sigismember(want, sig)) {
			if (restored)
				fail("signal %d: pending %d, expected %d", sig, sigismember(&pend, sig),
				     sigismember(want, sig));
			else
				pr_err("signal %d: pending %d, expected %d\n", sig, sigismember(&pend, sig),
				       sigismember(want, sig));
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec zero = { 0, 0 };
	sigset_t blk;
	siginfo_t si;
	uid_t uid;
	int i, sig;

	test_init(argc, argv);

	sigemptyset(&blk);
	sigaddset(&blk, SIGUSR1);
	sigaddset(&blk, SIGUSR2);
	sigaddset(&blk, RT_SHARED);
	sigaddset(&blk, RT_PRIVATE);
	if (sigprocmask(SIG_BLOCK, &blk, NULL)) {
		pr_perror("sigprocmask");
		return 1;
	}

	/* Standard signals coalesce: the second SIGUSR1 is dropped, the first siginfo stays */
	if (queue_shared(SIGUSR1, 0x1001) || queue_shared(SIGUSR1, 0x1002) || queue_private(SIGUSR2, 0x2001) ||
	    queue_shared(RT_SHARED, 0x3001) || queue_shared(RT_SHARED, 0x3002) || queue_shared(RT_SHARED, 0x3003) ||
	    queue_private(RT_PRIVATE, 0x4001) || queue_private(RT_PRIVATE, 0x4002))
		return 1;
	add_expect(SIGUSR2, MY_CODE, 0x2001);
	add_expect(RT_PRIVATE, MY_CODE, 0x4001);
	add_expect(RT_PRIVATE, MY_CODE, 0x4002);
	add_expect(SIGUSR1, SI_QUEUE, 0x1001);
	add_expect(RT_SHARED, SI_QUEUE, 0x3001);
	add_expect(RT_SHARED, SI_QUEUE, 0x3002);
	add_expect(RT_SHARED, SI_QUEUE, 0x3003);

	if (check_pending(&blk, 0))
		return 1;

	test_daemon();
	test_waitsig();

	if (check_pending(&blk, 1))
		return 1;

	uid = getuid();
	for (i = 0; i < nexpected; i++) {
		memset(&si, 0, sizeof(si));
		sig = sigtimedwait(&blk, &si, &zero);
		if (sig < 0) {
			fail("signal #%d: sigtimedwait found nothing, expected signal %d value %#x", i, expected[i].sig,
			     expected[i].value);
			return 1;
		}
		test_msg("dequeued signal %d code %d value %#x pid %d uid %d\n", sig, si.si_code, si.si_value.sival_int,
			 si.si_pid, si.si_uid);
		if (sig != expected[i].sig || si.si_signo != sig || si.si_code != expected[i].code ||
		    si.si_value.sival_int != expected[i].value || si.si_pid != getpid() || si.si_uid != uid) {
			fail("signal #%d: got signal %d code %d value %#x pid %d uid %d, expected %d %d %#x %d %d", i,
			     sig, si.si_code, si.si_value.sival_int, si.si_pid, si.si_uid, expected[i].sig,
			     expected[i].code, expected[i].value, getpid(), uid);
			return 1;
		}
	}
	sig = sigtimedwait(&blk, &si, &zero);
	if (sig >= 0 || errno != EAGAIN) {
		fail("an extra signal %d (value %#x) was queued", sig, si.si_value.sival_int);
		return 1;
	}

	pass();
	return 0;
}
