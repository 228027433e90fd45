#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "An mq fd of a POSIX message queue in the IPC namespace the test shares with the engine "
		       "(flavor h) with a message: the queue is not the tree's to dump, so the dump must be refused "
		       "with the tree left running; afterwards the message is still there";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 32 }, a;
	char name[64], buf[32];
	int ret = 1;
	mqd_t mq;

	test_init(argc, argv);

	ssprintf(name, "/zdtm-mq-host00-%d-%ld", getpid(), (long)time(NULL));
	mq = mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_NONBLOCK, 0600, &attr);
	if (mq == (mqd_t)-1 || mq_send(mq, "kept", 4, 3)) {
		pr_perror("mq_open/mq_send %s", name);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (mq_getattr(mq, &a) || a.mq_curmsgs != 1 || mq_receive(mq, buf, sizeof(buf), NULL) != 4 ||
	    memcmp(buf, "kept", 4)) {
		fail("the queue after the refused dump");
		goto out;
	}
	pass();
	ret = 0;
out:
	mq_close(mq);
	mq_unlink(name);
	return ret;
}
