#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "sk_unix.h"

const char *test_doc = "One unix socket, many fds: a seqpacket listener with three accepted connections, one "
		       "accepted end dup()ed and also held by a forked child, O_NONBLOCK set on one description; "
		       "after C/R the fds are still one socket (a message sent to one is read from the other), "
		       "each connection is its own, and the child answers through the shared one";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int lsk, c[3], a[3], d, i, go[2], status;
	char name[64], ch;
	pid_t pid;

	test_init(argc, argv);

	snprintf(name, sizeof(name), "@stasis-sk-unix21-%d", getpid());
	lsk = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (lsk < 0 || sk_bind(lsk, name) || listen(lsk, 8) || pipe(go)) {
		pr_perror("listener");
		return 1;
	}
	for (i = 0; i < 3; i++) {
		c[i] = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		if (c[i] < 0 || sk_connect(c[i], name) || (a[i] = accept(lsk, NULL, NULL)) < 0 ||
		    sk_send(c[i], 10 + i, 0, 10 + i)) {
			pr_perror("connection %d", i);
			return 1;
		}
	}
	d = dup(a[1]);
	if (d < 0 || fcntl(a[2], F_SETFL, O_NONBLOCK)) {
		pr_perror("dup");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (read(go[0], &ch, 1) != 1)
			_exit(2);
		if (sk_send(d, 20, 0, 5))
			_exit(3);
		_exit(0);
	}
	close(go[0]);

	test_daemon();
	test_waitsig();

	if (sk_recv_msg(d, 11, 0, 11, MSG_DONTWAIT) || sk_empty(a[1])) {
		fail("the dup()ed fd is not the same socket after C/R");
		goto err;
	}
	for (i = 0; i < 3; i++)
		if (i != 1 && sk_recv_msg(a[i], 10 + i, 0, 10 + i, MSG_DONTWAIT)) {
			fail("connection %d's message after C/R", i);
			goto err;
		}
	if (!(fcntl(a[2], F_GETFL) & O_NONBLOCK) || (fcntl(a[0], F_GETFL) & O_NONBLOCK)) {
		fail("O_NONBLOCK of the descriptions after C/R");
		goto err;
	}
	if (write(go[1], "g", 1) != 1 || sk_recv_msg(c[1], 20, 0, 5, 0)) {
		fail("the child's message through the shared socket");
		goto err;
	}
	for (i = 0; i < 3; i++)
		if (sk_send(a[i], 30 + i, 0, 3) || sk_recv_msg(c[i], 30 + i, 0, 3, 0)) {
			fail("connection %d after C/R", i);
			goto err;
		}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("child exit status %#x", status);
		return 1;
	}
	pass();
	return 0;
err:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 1;
}
