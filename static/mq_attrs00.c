#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "POSIX message queues of the test's own IPC namespace that no fd holds any more: one full "
		       "(mq_maxmsg 4 of 4, a message of mq_msgsize bytes and an empty one), one empty with other "
		       "attributes, mode 0604 and another owner: after C/R each is there by name with its "
		       "attributes, mode, owner and messages (priority order, then arrival order)";
const char *test_author = "Stasis developers";

#define FULL "/zdtm-mq-attrs-full"
#define EMPTY "/zdtm-mq-attrs-empty"
#define MSGSIZE 64

struct msg {
	unsigned prio;
	int len;
	char fill;
};

/* sent in this order; two of priority 5 keep their arrival order */
static const struct msg msgs[] = { { 5, 10, 'a' }, { 9, MSGSIZE, 'b' }, { 5, 0, 'c' }, { 0, 1, 'd' } };
static const int order[] = { 1, 0, 2, 3 };

static int open_and_check(const char *name, long maxmsg, long msgsize, long cur, mode_t mode, uid_t uid,
			  gid_t gid)
{
	struct mq_attr a;
	struct stat st;
	mqd_t mq = mq_open(name, O_RDWR | O_NONBLOCK);

	if (mq == (mqd_t)-1) {
		fail("mq_open %s after C/R", name);
		return -1;
	}
	if (mq_getattr(mq, &a) || a.mq_maxmsg != maxmsg || a.mq_msgsize != msgsize || a.mq_curmsgs != cur) {
		errno = 0;
		fail("%s after C/R: maxmsg %ld msgsize %ld curmsgs %ld", name, a.mq_maxmsg, a.mq_msgsize, a.mq_curmsgs);
		return -1;
	}
	/* the queue file: mode and owner (fstat of an mq fd shows the queue's inode) */
	if (fstat(mq, &st) || (st.st_mode & 07777) != mode || st.st_uid != uid || st.st_gid != gid) {
		errno = 0;
		fail("%s after C/R: mode %o owner %d:%d", name, st.st_mode & 07777, (int)st.st_uid, (int)st.st_gid);
		return -1;
	}
	return mq;
}

int main(int argc, char **argv)
{
	struct mq_attr full = { .mq_maxmsg = 4, .mq_msgsize = MSGSIZE }, empty = { .mq_maxmsg = 2, .mq_msgsize = 16 };
	char buf[MSGSIZE], want[MSGSIZE];
	struct timespec past = { 0, 0 };
	unsigned prio;
	mqd_t mq;
	ssize_t n;
	int i;

	test_init(argc, argv);

	mq_unlink(FULL);
	mq_unlink(EMPTY);
	mq = mq_open(FULL, O_CREAT | O_EXCL | O_WRONLY, 0600, &full);
	if (mq == (mqd_t)-1) {
		pr_perror("mq_open " FULL);
		return 1;
	}
	for (i = 0; i < (int)ARRAY_SIZE(msgs); i++) {
		memset(buf, msgs[i].fill, sizeof(buf));
		if (mq_send(mq, buf, msgs[i].len, msgs[i].prio)) {
			pr_perror("mq_send");
			return 1;
		}
	}
	mq_close(mq);
	mq = mq_open(EMPTY, O_CREAT | O_EXCL | O_RDONLY, 0604, &empty);
	if (mq == (mqd_t)-1 || fchown(mq, 1234, 5678) || fchmod(mq, 0604)) {
		pr_perror("mq_open/fchown " EMPTY);
		return 1;
	}
	mq_close(mq);

	test_daemon();
	test_waitsig();

	mq = open_and_check(EMPTY, 2, 16, 0, 0604, 1234, 5678);
	if (mq < 0)
		return 1;
	if (mq_timedreceive(mq, buf, sizeof(buf), &prio, &past) != -1 || errno != EAGAIN) {
		fail("the empty queue has a message after C/R");
		return 1;
	}
	mq_close(mq);
	mq = open_and_check(FULL, 4, MSGSIZE, 4, 0600, 0, 0);
	if (mq < 0)
		return 1;
	if (mq_timedsend(mq, "x", 1, 0, &past) != -1 || errno != EAGAIN) {
		fail("the full queue takes a message after C/R");
		return 1;
	}
	for (i = 0; i < (int)ARRAY_SIZE(order); i++) {
		const struct msg *m = &msgs[order[i]];

		n = mq_receive(mq, buf, sizeof(buf), &prio);
		memset(want, m->fill, sizeof(want));
		if (n != m->len || prio != m->prio || memcmp(buf, want, n)) {
			errno = 0;
			fail("message %d after C/R: %zd bytes, prio %u; expected %d bytes of '%c', prio %u", i, n, prio,
			     m->len, m->fill, m->prio);
			return 1;
		}
	}
	mq_close(mq);
	mq_unlink(FULL);
	mq_unlink(EMPTY);
	pass();
	return 0;
}
