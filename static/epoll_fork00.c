#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "epoll_common.h"

const char *test_doc = "An epoll instance shared by fork (one description in parent and child): after C/R the fds "
		       "of both are one description (kcmp), a registration the child adds shows in the parent's "
		       "fdinfo and wakes the parent's epoll_wait, and the one made before the fork is in both";
const char *test_author = "Stasis developers";

#define CP 0x9090909090909090ULL
#define CQ 0x0909090909090909ULL

static int p[2], q[2], go[2], done[2], ep;

static int child(void)
{
	char buf[8];
	pid_t ppid = getppid();

	close(go[1]);
	close(done[0]);
	if (write(done[1], "r", 1) != 1) /* set up: the parent may say it is ready */
		return 1;
	if (read(go[0], buf, 1) != 1)
		return 2;
	if (syscall(SYS_kcmp, getpid(), ppid, KCMP_FILE, ep, ep)) {
		fail("the child's epoll fd is not the parent's description after C/R");
		return 3;
	}
	if (epoll_count(ep) != 1 || expect_wait(ep, 0, 0, 0, "child: nothing ready"))
		return 4;
	if (ep_add(ep, q[0], EPOLLIN, CQ) || write(q[1], "q", 1) != 1)
		return 5;
	if (expect_wait(ep, 1, EPOLLIN, CQ, "child: its new registration"))
		return 6;
	if (write(done[1], "d", 1) != 1)
		return 7;
	return 0;
}

int main(int argc, char **argv)
{
	char before[TFD_TEXT], buf[8];
	int status;
	pid_t pid;

	test_init(argc, argv);

	ep = epoll_create1(0);
	if (ep < 0 || pipe(p) || pipe(q) || pipe(go) || pipe(done)) {
		pr_perror("epoll_create1/pipe");
		return 1;
	}
	if (ep_add(ep, p[0], EPOLLIN | EPOLLET, CP) || epoll_tfds(ep, before, sizeof(before)))
		return 1;
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0)
		_exit(child());
	close(go[0]);
	close(done[1]);
	if (read(done[0], buf, 1) != 1 || buf[0] != 'r') {
		pr_err("the child did not get ready\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (same_tfds(ep, before, "parent after C/R"))
		goto fail;
	if (write(go[1], "g", 1) != 1 || read(done[0], buf, 1) != 1) {
		fail("the child stopped after C/R");
		goto fail;
	}
	if (epoll_count(ep) != 2) {
		fail("the parent's epoll has %d registrations, expected the child's too", epoll_count(ep));
		goto fail;
	}
	if (expect_wait(ep, 1, EPOLLIN, CQ, "parent: the child's registration") ||
	    write(p[1], "p", 1) != 1 || expect_wait(ep, 2, 0, 0, "parent: both ready"))
		goto fail;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child ended with status %#x", status);
		return 1;
	}
	pass();
	return 0;
fail:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 1;
}
