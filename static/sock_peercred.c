#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "SO_PEERCRED of unix socketpairs over C/R: one made by the parent with an end held by a child "
		       "(the credentials are the creator's, the parent's), one made by the child with an end passed "
		       "to the parent over SCM_RIGHTS (the credentials are the child's)";
const char *test_author = "Stasis developers";

static int check(int sk, pid_t pid, const char *what)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(sk, SOL_SOCKET, SO_PEERCRED, &uc, &len)) {
		fail("%s: SO_PEERCRED", what);
		return 1;
	}
	if (uc.pid != pid || uc.uid != getuid() || uc.gid != getgid()) {
		fail("%s: peer credentials pid %d uid %d gid %d, expected pid %d uid %d gid %d", what, uc.pid, uc.uid,
		     uc.gid, pid, getuid(), getgid());
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int pair[2], go[2], ready[2], conn, status, ret = 1;
	pid_t pid;
	char c;

	test_init(argc, argv);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) || pipe(go) || pipe(ready)) {
		pr_perror("socketpair");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		int sk[2];

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(pair[0]);
		close(go[1]);
		/* a pair made by the child: its end sent to the parent over the parent's pair */
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sk))
			_exit(2);
		{
			char cbuf[CMSG_SPACE(sizeof(int))];
			struct iovec iov = { .iov_base = "s", .iov_len = 1 };
			struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
					     .msg_controllen = sizeof(cbuf) };
			struct cmsghdr *ch = CMSG_FIRSTHDR(&mh);

			ch->cmsg_level = SOL_SOCKET;
			ch->cmsg_type = SCM_RIGHTS;
			ch->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(ch), &sk[0], sizeof(int));
			if (sendmsg(pair[1], &mh, 0) != 1)
				_exit(3);
		}
		close(sk[0]);
		close(ready[0]);
		close(ready[1]); /* the parent reads EOF: every fd of the child is as it stays */
		if (read(go[0], &c, 1) != 1)
			_exit(4);
		_exit(write(sk[1], "k", 1) == 1 ? 0 : 5);
	}
	close(go[0]);
	{
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { .iov_base = &c, .iov_len = 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *ch;

		if (recvmsg(pair[0], &mh, 0) != 1 || !(ch = CMSG_FIRSTHDR(&mh)) || ch->cmsg_type != SCM_RIGHTS) {
			pr_perror("recvmsg");
			goto out;
		}
		memcpy(&conn, CMSG_DATA(ch), sizeof(int));
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 0) {
		pr_err("the child did not start\n");
		goto out;
	}
	close(ready[0]);

	test_daemon();
	test_waitsig();

	/* pair[0]: the pair was made by us, so the peer's credentials are ours though the child holds the end */
	if (check(pair[0], getpid(), "parent's pair") || check(conn, pid, "child's pair"))
		goto out;
	if (write(go[1], "g", 1) != 1 || read(conn, &c, 1) != 1 || c != 'k') {
		fail("the child's pair does not carry data after C/R");
		goto out;
	}
	ret = 0;
out:
	if (ret)
		kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("child status %#x", status);
		ret = 1;
	}
	if (!ret)
		pass();
	return ret;
}
