#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "sk_unix.h"

const char *test_doc = "Receivers with SO_PASSCRED and queued data (criu refuses them): a stream pair and a "
		       "datagram pair whose messages were sent by the parent and by a child: after C/R each "
		       "message carries the SCM_CREDENTIALS of its sender (pid, uid, gid), and one sent before the "
		       "receiver asked for them has none (pid 0)";
const char *test_author = "Stasis developers";

static int recv_cred(int fd, int stream, long off, size_t len, pid_t pid, uid_t uid, gid_t gid)
{
	uint8_t buf[4096], want[4096];
	char cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	struct ucred uc;
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

	sk_fill(want, stream, off, len);
	if (n != (ssize_t)len || memcmp(buf, want, len)) {
		pr_err("message of stream %d: %zd bytes, expected %zu\n", stream, n, len);
		return -1;
	}
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS) {
		pr_err("message of stream %d without credentials\n", stream);
		return -1;
	}
	memcpy(&uc, CMSG_DATA(c), sizeof(uc));
	if (uc.pid != pid || uc.uid != uid || uc.gid != gid) {
		pr_err("message of stream %d from pid %d uid %d gid %d, expected %d %d %d\n", stream, uc.pid, uc.uid,
		       uc.gid, pid, uid, gid);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int st[2], dg[2], late[2], one = 1, go[2], status;
	pid_t pid;
	char c;

	test_init(argc, argv);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, st) || socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) || pipe(go) ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, late)) {
		pr_perror("socketpair");
		return 1;
	}
	if (setsockopt(st[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ||
	    setsockopt(dg[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one))) {
		pr_perror("SO_PASSCRED");
		return 1;
	}
	/* sent while neither end passed credentials: the receiver sees none (pid 0, the overflow ids) */
	if (sk_send(late[0], 4, 0, 8) || setsockopt(late[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one))) {
		pr_perror("late");
		return 1;
	}
	if (sk_send(st[0], 1, 0, 100) || sk_send(dg[0], 2, 0, 10)) {
		pr_perror("send");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(go[1]);
		if (sk_send(st[0], 1, 100, 50) || sk_send(dg[0], 2, 10, 20))
			_exit(2);
		if (read(go[0], &c, 1) < 0)
			_exit(3);
		_exit(0);
	}
	close(go[0]);
	/* the child's messages are queued */
	while (1) {
		int n = 0;

		if (recv(st[1], &c, 1, MSG_PEEK | MSG_DONTWAIT) == 1 && ioctl(st[1], FIONREAD, &n) == 0 && n == 150)
			break;
		usleep(1000);
	}
	usleep(20000);

	test_daemon();
	test_waitsig();

	if (recv_cred(st[1], 1, 0, 100, getpid(), getuid(), getgid()) || recv_cred(st[1], 1, 100, 50, pid, getuid(), getgid())) {
		fail("stream credentials after C/R");
		goto out;
	}
	if (recv_cred(dg[1], 2, 0, 10, getpid(), getuid(), getgid()) || recv_cred(dg[1], 2, 10, 20, pid, getuid(), getgid())) {
		fail("datagram credentials after C/R");
		goto out;
	}
	if (recv_cred(late[1], 4, 0, 8, 0, 65534, 65534)) {
		fail("a message sent without credentials after C/R");
		goto out;
	}
	if (sk_send(dg[0], 3, 0, 5) || recv_cred(dg[1], 3, 0, 5, getpid(), getuid(), getgid())) {
		fail("a new message's credentials");
		goto out;
	}
	close(go[1]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("child exit status %#x", status);
		return 1;
	}
	pass();
	return 0;
out:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 1;
}
