#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "mq fds of one POSIX message queue: a read-only O_NONBLOCK description, dup()ed, and a "
		       "write-only blocking one, also held by a child; a message in the queue: after C/R the "
		       "flags of each description are as before (F_GETFL, mq_flags), the dup shares the read "
		       "end's O_NONBLOCK, the child's write reaches the parent's read end, and an empty read "
		       "end fails with EAGAIN";
const char *test_author = "Stasis developers";

#define NAME "/zdtm-mq-fds00"

static int flags_are(mqd_t mq, int acc, int nonblock, const char *what)
{
	struct mq_attr a;
	int fl = fcntl(mq, F_GETFL);

	if (fl < 0 || (fl & O_ACCMODE) != acc || !!(fl & O_NONBLOCK) != nonblock || mq_getattr(mq, &a) ||
	    !!(a.mq_flags & O_NONBLOCK) != nonblock) {
		fail("%s after C/R: F_GETFL %#x, mq_flags %#lx", what, fl, a.mq_flags);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 32 };
	int to_child[2], status, ret = 1;
	mqd_t rd, rd2, wr;
	unsigned prio;
	char buf[32], c;
	pid_t child;
	ssize_t n;

	test_init(argc, argv);

	mq_unlink(NAME);
	rd = mq_open(NAME, O_CREAT | O_EXCL | O_RDONLY | O_NONBLOCK, 0600, &attr);
	wr = mq_open(NAME, O_WRONLY);
	rd2 = dup(rd);
	if (rd == (mqd_t)-1 || wr == (mqd_t)-1 || rd2 < 0 || pipe(to_child)) {
		pr_perror("mq_open/dup/pipe");
		return 1;
	}
	if (mq_send(wr, "before", 6, 2)) {
		pr_perror("mq_send");
		return 1;
	}
	child = fork();
	if (child < 0) {
		pr_perror("fork");
		return 1;
	}
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (read(to_child[0], &c, 1) != 1)
			_exit(1);
		_exit(mq_send(wr, "from the child", 14, 7) ? 2 : 0);
	}
	close(to_child[0]);

	test_daemon();
	test_waitsig();

	if (flags_are(rd, O_RDONLY, 1, "the read end") || flags_are(rd2, O_RDONLY, 1, "its dup") ||
	    flags_are(wr, O_WRONLY, 0, "the write end"))
		goto out;
	/* one description: a change through the dup is seen through the first fd */
	if (fcntl(rd2, F_SETFL, 0) || (fcntl(rd, F_GETFL) & O_NONBLOCK) || fcntl(rd2, F_SETFL, O_NONBLOCK)) {
		fail("the dup is not the same description after C/R");
		goto out;
	}
	if (write(to_child[1], "g", 1) != 1 || waitpid(child, &status, 0) != child || status) {
		fail("the child's mq_send after C/R (status %#x)", status);
		goto out;
	}
	child = 0;
	n = mq_receive(rd, buf, sizeof(buf), &prio);
	if (n != 14 || prio != 7 || memcmp(buf, "from the child", 14)) {
		fail("the first message after C/R: %zd bytes, prio %u", n, prio);
		goto out;
	}
	n = mq_receive(rd2, buf, sizeof(buf), &prio);
	if (n != 6 || prio != 2 || memcmp(buf, "before", 6)) {
		fail("the second message after C/R: %zd bytes, prio %u", n, prio);
		goto out;
	}
	if (mq_receive(rd, buf, sizeof(buf), &prio) != -1 || errno != EAGAIN) {
		fail("the empty O_NONBLOCK read end after C/R");
		goto out;
	}
	if (mq_receive(wr, buf, sizeof(buf), &prio) != -1 || errno != EBADF) {
		fail("the write end can read after C/R");
		goto out;
	}
	pass();
	ret = 0;
out:
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	mq_unlink(NAME);
	return ret;
}
