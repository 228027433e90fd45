#include <fcntl.h>
#include <mqueue.h>
#include <time.h>

#include "zdtmtst.h"

const char *test_doc = "A POSIX message queue of the test's with three messages of different priorities queued: "
		       "mq_getattr and the messages (highest priority first, exact payloads) survive C/R";
const char *test_author = "Stasis developers";

#define MSGSIZE 128
#define MAXMSG 8

struct msg {
	unsigned prio;
	const char *text;
};

/* sent in this order; received by priority */
static const struct msg msgs[] = { { 3, "the middle one" }, { 7, "the most urgent one" }, { 1, "low" } };
static const int order[] = { 1, 0, 2 };

int main(int argc, char **argv)
{
	struct mq_attr attr = { .mq_maxmsg = MAXMSG, .mq_msgsize = MSGSIZE }, before, after;
	char name[64], buf[MSGSIZE + 1];
	struct timespec ts = { 0, 0 };
	unsigned prio;
	ssize_t n;
	mqd_t mq;
	int i, ret = 1;

	test_init(argc, argv);

	ssprintf(name, "/zdtm-mqueue00-%d-%ld", getpid(), (long)time(NULL));
	mq = mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_NONBLOCK, 0600, &attr);
	if (mq == (mqd_t)-1) {
		pr_perror("mq_open %s", name);
		return 1;
	}
	for (i = 0; i < (int)ARRAY_SIZE(msgs); i++)
		if (mq_send(mq, msgs[i].text, strlen(msgs[i].text), msgs[i].prio)) {
			pr_perror("mq_send");
			goto out;
		}
	if (mq_getattr(mq, &before) || before.mq_curmsgs != ARRAY_SIZE(msgs) || before.mq_maxmsg != MAXMSG ||
	    before.mq_msgsize != MSGSIZE || before.mq_flags != O_NONBLOCK) {
		pr_perror("mq_getattr right after the setup");
		goto out;
	}

	test_daemon();
	test_waitsig();

	if (mq_getattr(mq, &after)) {
		fail("mq_getattr after C/R");
		goto out;
	}
	if (after.mq_flags != before.mq_flags || after.mq_maxmsg != before.mq_maxmsg ||
	    after.mq_msgsize != before.mq_msgsize || after.mq_curmsgs != before.mq_curmsgs) {
		errno = 0;
		fail("mq_getattr after C/R: flags %#lx maxmsg %ld msgsize %ld curmsgs %ld; before %#lx %ld %ld %ld",
		     after.mq_flags, after.mq_maxmsg, after.mq_msgsize, after.mq_curmsgs, before.mq_flags,
		     before.mq_maxmsg, before.mq_msgsize, before.mq_curmsgs);
		goto out;
	}
	for (i = 0; i < (int)ARRAY_SIZE(order); i++) {
		const struct msg *m = &msgs[order[i]];

		n = mq_receive(mq, buf, sizeof(buf), &prio);
		if (n < 0) {
			fail("mq_receive of message %d after C/R", i);
			goto out;
		}
		buf[n] = 0;
		if (prio != m->prio || (size_t)n != strlen(m->text) || strcmp(buf, m->text)) {
			errno = 0;
			fail("message %d after C/R: prio %u \"%s\", expected prio %u \"%s\"", i, prio, buf, m->prio,
			     m->text);
			goto out;
		}
	}
	n = mq_timedreceive(mq, buf, sizeof(buf), &prio, &ts);
	if (n != -1 || errno != EAGAIN) {
		fail("the queue is not empty after the three messages (%zd)", n);
		goto out;
	}
	pass();
	ret = 0;
out:
	mq_close(mq);
	if (mq_unlink(name))
		pr_perror("mq_unlink %s", name);
	return ret;
}
