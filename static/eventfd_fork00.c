#include <fcntl.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "An eventfd with counter 9 shared by a parent and its child (fork): after C/R it is one "
		       "description in both (kcmp), the child (woken through a second eventfd it was blocked on) "
		       "reads 9 from it and writes 1000 back, which the parent then reads";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int shared, ping, status, r;
	eventfd_t v;
	pid_t pid;

	test_init(argc, argv);

	shared = eventfd(9, 0);
	ping = eventfd(0, 0);
	if (shared < 0 || ping < 0)
		return pr_perror("eventfd");
	pid = fork();
	if (pid < 0)
		return pr_perror("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (eventfd_read(ping, &v) || v != 1)
			_exit(2);
		if (eventfd_read(shared, &v) || v != 9)
			_exit(3);
		if (eventfd_write(shared, 1000))
			_exit(4);
		_exit(0);
	}

	test_daemon();
	test_waitsig();

	r = syscall(SYS_kcmp, getpid(), pid, KCMP_FILE, shared, shared);
	if (r != 0) {
		fail("kcmp of the shared eventfd in parent and child gives %d after C/R (0: one description)", r);
		kill(pid, SIGKILL);
		return 1;
	}
	if (syscall(SYS_kcmp, getpid(), pid, KCMP_FILE, shared, ping) == 0) {
		fail("the two eventfds are one description after C/R");
		kill(pid, SIGKILL);
		return 1;
	}
	if (eventfd_write(ping, 1))
		return pr_perror("eventfd_write");
	if (waitpid(pid, &status, 0) != pid)
		return pr_perror("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child failed after C/R (status %#x: 2 = ping, 3 = counter not 9, 4 = write)", status);
		return 1;
	}
	if (fcntl(shared, F_SETFL, O_NONBLOCK) || eventfd_read(shared, &v) || v != 1000) {
		fail("the parent reads %llu from the shared eventfd, expected the child's 1000",
		     (unsigned long long)v);
		return 1;
	}
	pass();
	return 0;
}
