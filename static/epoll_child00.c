#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "epoll_common.h"

const char *test_doc = "A child registers in its own epoll the read end of a pipe it shares (one description) with "
		       "its parent, then closes its own fds of the pipe: the target is held only by the parent. "
		       "After C/R the child's registration is as before, data the parent wrote before the dump "
		       "wakes the child's epoll at once, and data written after too";
const char *test_author = "Stasis developers";

#define COOKIE 0xc41dc41dc41dc41dULL

static int p[2], go[2], ready[2];

static int child(void)
{
	char before[TFD_TEXT], buf[8];
	int ep;

	close(go[1]);
	close(ready[0]);
	ep = epoll_create1(0);
	if (ep < 0 || ep_add(ep, p[0], EPOLLIN, COOKIE))
		return 2;
	if (epoll_tfds(ep, before, sizeof(before)))
		return 3;
	close(p[0]);
	close(p[1]);
	if (write(ready[1], "r", 1) != 1)
		return 4;
	if (read(go[0], buf, 1) != 1)
		return 5;
	/* after C/R */
	if (same_tfds(ep, before, "child after C/R"))
		return 6;
	if (fcntl(p[0], F_GETFD) != -1) {
		fail("the child's fd %d is open after C/R", p[0]);
		return 7;
	}
	if (expect_wait(ep, 1, EPOLLIN, COOKIE, "child: data written before the dump"))
		return 8;
	if (write(ready[1], "d", 1) != 1 || read(go[0], buf, 1) != 1)
		return 9;
	if (expect_wait(ep, 1, EPOLLIN, COOKIE, "child: the parent drained and wrote again"))
		return 10;
	return 0;
}

int main(int argc, char **argv)
{
	char buf[8];
	int status;
	pid_t pid;

	test_init(argc, argv);

	if (pipe(p) || pipe(go) || pipe(ready)) {
		pr_perror("pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0)
		_exit(child());
	close(go[0]);
	close(ready[1]);
	if (read(ready[0], buf, 1) != 1) {
		pr_err("the child did not get ready\n");
		return 1;
	}
	if (write(p[1], "1", 1) != 1)
		return pr_perror("write");

	test_daemon();
	test_waitsig();

	if (write(go[1], "g", 1) != 1 || read(ready[0], buf, 1) != 1) {
		fail("the child stopped after C/R");
		goto wait;
	}
	if (read(p[0], buf, sizeof(buf)) != 1 || buf[0] != '1') {
		fail("the parent's read end after C/R");
		goto wait;
	}
	if (write(p[1], "2", 1) != 1 || write(go[1], "g", 1) != 1)
		fail("write after C/R");
wait:
	close(go[1]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child ended with status %#x", status);
		return 1;
	}
	pass();
	return 0;
}
