#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "sk_unix.h"

const char *test_doc = "Unix stream and seqpacket socketpairs whose ends are in two processes after fork(), data "
		       "queued both ways before C/R; after it the child reads and answers, the parent checks "
		       "every byte and message";
const char *test_author = "Stasis developers";

static int st[2], sp[2];

static int child(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	close(st[0]);
	close(sp[0]);
	if (sk_send(st[1], 2, 0, 3000) || sk_send(sp[1], 4, 0, 50) || sk_send(sp[1], 4, 50, 7))
		return 2;
	/* wait for the parent's go (after C/R), then check what was queued for us */
	if (sk_recv_stream(st[1], 1, 0, 20000))
		return 3;
	if (sk_recv_msg(sp[1], 3, 0, 123, 0) || sk_recv_msg(sp[1], 3, 123, 1, 0))
		return 4;
	if (sk_recv_stream(st[1], 5, 0, 1))
		return 5;
	if (sk_peer_pid(st[1]) != getppid() || sk_peer_pid(sp[1]) != getppid())
		return 7; /* the parent made the pairs */
	if (sk_send(st[1], 6, 0, 1000) || sk_send(sp[1], 7, 0, 99))
		return 6;
	return 0;
}

int main(int argc, char **argv)
{
	int status;
	pid_t pid;

	test_init(argc, argv);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, st) || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp)) {
		pr_perror("socketpair");
		return 1;
	}
	if (sk_send(st[0], 1, 0, 20000) || sk_send(sp[0], 3, 0, 123) || sk_send(sp[0], 3, 123, 1)) {
		pr_perror("send");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0)
		_exit(child());
	close(st[1]);
	close(sp[1]);
	/* the child's data is queued before C/R */
	while (1) {
		char c;

		if (recv(sp[0], &c, 1, MSG_PEEK | MSG_DONTWAIT) == 1)
			break;
		usleep(1000);
	}
	usleep(20000);

	test_daemon();
	test_waitsig();

	if (sk_recv_stream(st[0], 2, 0, 3000) || sk_recv_msg(sp[0], 4, 0, 50, 0) || sk_recv_msg(sp[0], 4, 50, 7, 0)) {
		fail("the child's queued data after C/R");
		goto err;
	}
	if (sk_peer_pid(st[0]) != getpid() || sk_peer_pid(sp[0]) != getpid()) {
		fail("SO_PEERCRED pid %d after C/R, expected %d (who made the pair)", sk_peer_pid(st[0]), getpid());
		goto err;
	}
	if (sk_send(st[0], 5, 0, 1)) {
		fail("send to the child");
		goto err;
	}
	if (sk_recv_stream(st[0], 6, 0, 1000) || sk_recv_msg(sp[0], 7, 0, 99, 0)) {
		fail("the child's answer");
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
