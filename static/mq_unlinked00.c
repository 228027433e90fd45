#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "A POSIX message queue unlinked while the test and its child hold it open, with two "
		       "messages, and another queue made later under the same name: after C/R the unlinked queue "
		       "still has its messages and is shared by both processes (the child's send is received by "
		       "the parent), and the name is the other queue's";
const char *test_author = "Stasis developers";

#define NAME "/zdtm-mq-unlinked00"

int main(int argc, char **argv)
{
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 32 }, a;
	int to_child[2], status, ret = 1;
	mqd_t mq, other;
	unsigned prio;
	char buf[64], c;
	pid_t child;
	ssize_t n;

	test_init(argc, argv);

	mq_unlink(NAME);
	mq = mq_open(NAME, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
	if (mq == (mqd_t)-1 || mq_send(mq, "one", 3, 1) || mq_send(mq, "two", 3, 4) || pipe(to_child)) {
		pr_perror("mq_open/mq_send/pipe");
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
		_exit(mq_send(mq, "from the child", 14, 9) ? 2 : 0);
	}
	if (mq_unlink(NAME)) {
		pr_perror("mq_unlink");
		goto out;
	}
	attr.mq_msgsize = 16;
	other = mq_open(NAME, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
	if (other == (mqd_t)-1 || mq_send(other, "other", 5, 0) || mq_close(other)) {
		pr_perror("the other queue");
		goto out;
	}

	test_daemon();
	test_waitsig();

	if (mq_getattr(mq, &a) || a.mq_curmsgs != 2 || a.mq_msgsize != 32) {
		fail("the unlinked queue after C/R: %ld messages of up to %ld bytes", a.mq_curmsgs, a.mq_msgsize);
		goto out;
	}
	if (write(to_child[1], "g", 1) != 1 || waitpid(child, &status, 0) != child || status) {
		fail("the child's mq_send after C/R (status %#x)", status);
		goto out;
	}
	child = 0;
	n = mq_receive(mq, buf, sizeof(buf), &prio);
	if (n != 14 || prio != 9 || memcmp(buf, "from the child", 14)) {
		fail("the child's message after C/R: %zd bytes, prio %u", n, prio);
		goto out;
	}
	n = mq_receive(mq, buf, sizeof(buf), &prio);
	if (n != 3 || prio != 4 || memcmp(buf, "two", 3) || mq_receive(mq, buf, sizeof(buf), &prio) != 3 ||
	    prio != 1 || memcmp(buf, "one", 3)) {
		fail("the unlinked queue's messages after C/R");
		goto out;
	}
	other = mq_open(NAME, O_RDONLY | O_NONBLOCK);
	if (other == (mqd_t)-1 || mq_getattr(other, &a) || a.mq_msgsize != 16 || a.mq_curmsgs != 1 ||
	    mq_receive(other, buf, sizeof(buf), &prio) != 5 || memcmp(buf, "other", 5)) {
		fail("the queue of the name after C/R");
		goto out;
	}
	mq_close(other);
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
