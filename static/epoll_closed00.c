#include <sys/wait.h>

#include "epoll_common.h"

const char *test_doc = "An epoll whose target the tree holds under no fd: registered, then its only fd in the tree "
		       "closed while a process outside the tree (a grandchild whose parent exited) keeps the file "
		       "open. The dump is refused with the tree left running, and the registration still delivers "
		       "the data after the refused dump";
const char *test_author = "Stasis developers";

#define COOKIE 0xdeadbeef00c105edULL

int main(int argc, char **argv)
{
	char before[TFD_TEXT], buf[1];
	int p[2], s[2], r[2], ep, status;
	ssize_t n;
	pid_t pid;

	test_init(argc, argv);

	ep = epoll_create1(0);
	if (ep < 0 || pipe(p) || pipe(s) || pipe(r)) {
		pr_perror("epoll_create1/pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0)
		return pr_perror("fork");
	if (pid == 0) {
		/*
		 * the grandchild keeps p[0] until the test closes s[1] (or exits); it is settled (its fds
		 * stay as they are) once r's last writer is closed
		 */
		if (fork() == 0) {
			close(p[1]);
			close(s[1]);
			close(r[0]);
			close(r[1]);
			while (read(s[0], buf, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || status)
		return pr_perror("waitpid");
	close(s[0]);
	close(r[1]);
	do
		n = read(r[0], buf, 1);
	while (n > 0 || (n < 0 && errno == EINTR));
	close(r[0]);
	if (ep_add(ep, p[0], EPOLLIN, COOKIE) || close(p[0]) || epoll_tfds(ep, before, sizeof(before)))
		return 1;
	if (epoll_count(ep) != 1) {
		pr_err("the registration is gone with the fd\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (same_tfds(ep, before, "after the refused dump"))
		return 1;
	if (write(p[1], "x", 1) != 1 || expect_wait(ep, 1, EPOLLIN, COOKIE, "the target held outside the tree"))
		return 1;
	close(s[1]);
	pass();
	return 0;
}
