#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "Children that exit after restore: the parent's waitpid() sees their exit statuses, both "
		       "a wait issued after restore and one a thread is blocked in across C/R";
const char *test_author = "Stasis developers";

#define CODE_LATE 57	/* exits after restore; waited for by main after restore */
#define CODE_BLOCKED 58 /* exits after restore; a thread sits in waitpid() for it across C/R */

static pid_t child_late, child_blocked;
static int status_blocked = -1;
static pid_t wait_ret = -2;
static int wait_errno;

static int ready[2]; /* each child and the waiter thread say they are set up: then the test is ready */
static volatile int waiter_running;

static pid_t spawn(int fd_read, int fd_close, int code)
{
	pid_t pid = fork();
	char c = 'r';

	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	close(fd_close);
	close(ready[0]);
	if (write(ready[1], &c, 1) != 1)
		_exit(101);
	close(ready[1]);
	/* Exit only when the parent says so; EOF (the parent died) means failure */
	if (read(fd_read, &c, 1) != 1 || c != 'x')
		_exit(100);
	_exit(code);
}

static void *waiter(void *arg)
{
	waiter_running = 1; /* its signal mask is the creator's by now (glibc sets it before this runs) */
	wait_ret = waitpid(child_blocked, &status_blocked, 0);
	wait_errno = errno;
	return NULL;
}

int main(int argc, char **argv)
{
	int p1[2], p2[2], status;
	pthread_t th;
	pid_t pid;

	test_init(argc, argv);

	if (pipe(ready) || pipe(p1) || pipe(p2)) {
		pr_perror("pipe");
		return 1;
	}
	child_late = spawn(p1[0], p1[1], CODE_LATE);
	child_blocked = spawn(p2[0], p2[1], CODE_BLOCKED);
	if (child_late < 0 || child_blocked < 0) {
		pr_perror("fork");
		return 1;
	}
	close(p1[0]);
	close(p2[0]);
	close(ready[1]);
	for (int i = 0; i < 2; i++) {
		char c;

		if (read(ready[0], &c, 1) != 1) {
			pr_perror("a child did not get ready");
			return 1;
		}
	}
	close(ready[0]);
	if (pthread_create(&th, NULL, waiter, NULL)) {
		pr_err("pthread_create\n");
		return 1;
	}
	while (!waiter_running)
		usleep(1000);
	if (waitpid(child_late, &status, WNOHANG) != 0) {
		pr_err("child %d is gone before C/R\n", child_late);
		return 1;
	}

	test_daemon();
	test_waitsig();

	/* Nobody may have exited yet */
	if (waitpid(child_late, &status, WNOHANG) != 0) {
		fail("child %d is not running after C/R (status %#x)", child_late, status);
		goto out_kill;
	}
	if (wait_ret != -2) {
		fail("the waiting thread returned early: %d (errno %d) status %#x", wait_ret, wait_errno,
		     status_blocked);
		goto out_kill;
	}

	if (write(p1[1], "x", 1) != 1 || write(p2[1], "x", 1) != 1) {
		fail("write to the children");
		goto out_kill;
	}
	pid = waitpid(child_late, &status, 0);
	if (pid != child_late || !WIFEXITED(status) || WEXITSTATUS(status) != CODE_LATE) {
		fail("waitpid(%d) = %d status %#x, expected exit code %d", child_late, pid, status, CODE_LATE);
		goto out_kill;
	}
	pthread_join(th, NULL);
	if (wait_ret != child_blocked || !WIFEXITED(status_blocked) || WEXITSTATUS(status_blocked) != CODE_BLOCKED) {
		errno = wait_errno;
		fail("waitpid(%d) in the thread = %d status %#x, expected exit code %d", child_blocked, wait_ret,
		     status_blocked, CODE_BLOCKED);
		return 1;
	}
	if (waitpid(-1, &status, WNOHANG) != -1 || errno != ECHILD) {
		fail("an extra child is left");
		return 1;
	}
	pass();
	return 0;

out_kill:
	kill(child_late, SIGKILL);
	kill(child_blocked, SIGKILL);
	pthread_join(th, NULL);
	waitpid(child_late, NULL, 0);
	return 1;
}
