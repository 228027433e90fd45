#include <fcntl.h>
#include <linux/kcmp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A timerfd that expired (not read) shared by a parent and a child (fork), and a thread "
		       "blocked in read() on a second timerfd armed for 20 s: after C/R the shared one is one "
		       "description (kcmp), the child reads its 1 expiration and the parent then finds none; the "
		       "thread's read returns 1 expiration";
const char *test_author = "Stasis developers";

static int slow, started;

static void *reader(void *arg)
{
	uint64_t v = 0;

	/* glibc starts a thread with every signal blocked and sets its mask before calling us */
	__atomic_store_n(&started, 1, __ATOMIC_SEQ_CST);
	if (read(slow, &v, sizeof(v)) != sizeof(v))
		return (void *)-1L;
	return (void *)(long)v;
}

int main(int argc, char **argv)
{
	/* the slow one outlives an engine start-up under emulation (the kernel matrix: about 11 s) */
	struct itimerspec quick = { .it_value = { 0, 1000000 } }, slow_spec = { .it_value = { 20, 0 } };
	int shared, ping, status, r;
	pthread_t th;
	uint64_t v;
	eventfd_t e;
	void *res;
	pid_t pid;

	test_init(argc, argv);

	shared = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	slow = timerfd_create(CLOCK_MONOTONIC, 0);
	ping = eventfd(0, 0);
	if (shared < 0 || slow < 0 || ping < 0)
		return pr_perror("timerfd_create/eventfd");
	if (timerfd_settime(shared, 0, &quick, NULL))
		return pr_perror("timerfd_settime");
	usleep(20000);
	pid = fork();
	if (pid < 0)
		return pr_perror("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (eventfd_read(ping, &e))
			_exit(2);
		if (read(shared, &v, sizeof(v)) != sizeof(v) || v != 1)
			_exit(3);
		_exit(0);
	}
	if (timerfd_settime(slow, 0, &slow_spec, NULL) || pthread_create(&th, NULL, reader, NULL))
		return pr_perror("timerfd_settime/pthread_create");
	while (!__atomic_load_n(&started, __ATOMIC_SEQ_CST))
		usleep(1000);

	test_daemon();
	test_waitsig();

	r = syscall(SYS_kcmp, getpid(), pid, KCMP_FILE, shared, shared);
	if (r != 0) {
		fail("kcmp of the shared timerfd in parent and child gives %d after C/R", r);
		kill(pid, SIGKILL);
		return 1;
	}
	if (eventfd_write(ping, 1) || waitpid(pid, &status, 0) != pid)
		return pr_perror("eventfd_write/waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child did not read 1 expiration from the shared timerfd after C/R (status %#x)", status);
		return 1;
	}
	if (read(shared, &v, sizeof(v)) != -1 || errno != EAGAIN) {
		fail("the parent still reads expirations the child took");
		return 1;
	}
	if (pthread_join(th, &res) || res != (void *)1L) {
		fail("the thread's blocking read of the 20 s timer returned %ld after C/R", (long)res);
		return 1;
	}
	pass();
	return 0;
}
