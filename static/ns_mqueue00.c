#include <mqueue.h>

#include "mnt_util.h"

const char *test_doc = "A POSIX message queue of the test's IPC namespace holding two messages, with no "
		       "descriptor open on it at the dump (it lives on in the namespace): after C/R the queue is "
		       "there with its attributes and both messages in priority order";
const char *test_author = "Stasis developers";

#define QNAME "/zdtm_ns_mqueue00"

int main(int argc, char **argv)
{
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 32 }, now;
	unsigned prio;
	char buf[32];
	mqd_t q;

	test_init(argc, argv);

	q = mq_open(QNAME, O_CREAT | O_EXCL | O_WRONLY, 0640, &attr);
	if (q == (mqd_t)-1 || mq_send(q, "low", 3, 1) || mq_send(q, "high", 4, 7) || mq_close(q)) {
		pr_perror("the queue");
		return 1;
	}

	test_daemon();
	test_waitsig();

	q = mq_open(QNAME, O_RDONLY | O_NONBLOCK);
	if (q == (mqd_t)-1 || mq_getattr(q, &now) || now.mq_maxmsg != 4 || now.mq_msgsize != 32 || now.mq_curmsgs != 2) {
		fail("the queue after the refused dump");
		return 1;
	}
	if (mq_receive(q, buf, sizeof(buf), &prio) != 4 || prio != 7 || memcmp(buf, "high", 4) ||
	    mq_receive(q, buf, sizeof(buf), &prio) != 3 || prio != 1 || memcmp(buf, "low", 3)) {
		fail("the messages after the refused dump");
		return 1;
	}
	mq_close(q);
	mq_unlink(QNAME);
	pass();
	return 0;
}
