#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "Owners of other kinds than file_fown's: a regular file owned by a second thread "
		       "(F_OWNER_TID) with F_SETSIG, a socket owned by a child process (F_OWNER_PID), a pipe owned "
		       "by the process group through F_SETOWN(-pgrp), a pipe with a signal only (no owner: type F_OWNER_TID, pid 0): after "
		       "C/R F_GETOWN_EX and F_GETSIG are the same, the ids the ones the tree sees";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

static pid_t tid;
static int ready[2];

static void *idle(void *arg)
{
	tid = syscall(SYS_gettid);
	if (write(ready[1], "t", 1) != 1)
		_exit(1);
	while (1)
		pause();
	return arg;
}

static int owner_is(int fd, int type, pid_t pid, int sig, const char *what)
{
	struct f_owner_ex got;
	int s;

	if (fcntl(fd, F_GETOWN_EX, &got)) {
		pr_perror("F_GETOWN_EX %s", what);
		return 1;
	}
	s = fcntl(fd, F_GETSIG);
	if (got.type != type || got.pid != pid || s != sig) {
		fail("%s: owner type %d pid %d signal %d, expected %d %d %d", what, got.type, got.pid, s, type, pid,
		     sig);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct f_owner_ex own;
	int file, sk[2], p1[2], p2[2], bad = 0;
	pthread_t th;
	pid_t child;
	char c;

	test_init(argc, argv);

	if (pipe(ready) || pthread_create(&th, NULL, idle, NULL) || read(ready[0], &c, 1) != 1) {
		pr_perror("thread");
		return 1;
	}
	child = fork();
	if (child < 0) {
		pr_perror("fork");
		return 1;
	}
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		while (1)
			pause();
	}
	file = open(filename, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (file < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sk) || pipe(p1) || pipe(p2)) {
		pr_perror("open");
		goto out;
	}
	own.type = F_OWNER_TID;
	own.pid = tid;
	if (fcntl(file, F_SETOWN_EX, &own) || fcntl(file, F_SETSIG, SIGRTMIN + 1)) {
		pr_perror("file owner");
		goto out;
	}
	own.type = F_OWNER_PID;
	own.pid = child;
	if (fcntl(sk[0], F_SETOWN_EX, &own) || fcntl(sk[0], F_SETSIG, SIGURG)) {
		pr_perror("socket owner");
		goto out;
	}
	if (fcntl(p1[0], F_SETOWN, -getpgrp()) || fcntl(p2[1], F_SETSIG, SIGRTMIN + 3)) {
		pr_perror("pipe owners");
		goto out;
	}
	if (owner_is(file, F_OWNER_TID, tid, SIGRTMIN + 1, "the file") ||
	    owner_is(sk[0], F_OWNER_PID, child, SIGURG, "the socket") ||
	    owner_is(p1[0], F_OWNER_PGRP, getpgrp(), 0, "the pipe") ||
	    owner_is(p2[1], F_OWNER_TID, 0, SIGRTMIN + 3, "the second pipe"))
		goto out;

	test_daemon();
	test_waitsig();

	bad |= owner_is(file, F_OWNER_TID, tid, SIGRTMIN + 1, "the file");
	bad |= owner_is(sk[0], F_OWNER_PID, child, SIGURG, "the socket");
	bad |= owner_is(sk[1], F_OWNER_TID, 0, 0, "the socket's peer");
	bad |= owner_is(p1[0], F_OWNER_PGRP, getpgrp(), 0, "the pipe");
	bad |= owner_is(p2[1], F_OWNER_TID, 0, SIGRTMIN + 3, "the second pipe");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	if (!bad)
		pass();
	return bad;
out:
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return 1;
}
