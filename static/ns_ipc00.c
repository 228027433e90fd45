#include <sched.h>
#include <sys/msg.h>
#include <sys/stat.h>

#include "zdtmtst.h"
#include "ns_outer.h"

const char *test_doc = "The test's own IPC namespace (unshare CLONE_NEWIPC) with a SysV message queue in it "
		       "holding two messages: after C/R the test is still in an IPC namespace of its own (a new "
		       "one: the inode cannot come back), the queue (same id, same key) and the messages are the "
		       "same, and the queue is not in the outer namespace";
const char *test_author = "Stasis developers";

#define KEY 0x2d7a6970

struct m {
	long mtype;
	char text[64];
};

static int ns_ino(const char *path, ino_t *ino)
{
	struct stat st;

	if (stat(path, &st))
		return pr_perror("stat %s", path);
	*ino = st.st_ino;
	return 0;
}

int main(int argc, char **argv)
{
	struct m m1 = { 5, "first message" }, m2 = { 9, "second one" }, r;
	struct msqid_ds ds;
	ino_t outer, mine, now;
	int id, id2;
	ssize_t n;

	test_init(argc, argv);
	if (ns_outer_start())
		return 1;

	if (ns_ino("/proc/self/ns/ipc", &outer))
		return 1;
	if (unshare(CLONE_NEWIPC)) {
		pr_perror("unshare(CLONE_NEWIPC)");
		return 1;
	}
	if (ns_ino("/proc/self/ns/ipc", &mine))
		return 1;
	if (mine == outer) {
		pr_err("unshare(CLONE_NEWIPC) left the test in its namespace\n");
		return 1;
	}
	id = msgget(KEY, IPC_CREAT | IPC_EXCL | 0600);
	if (id < 0) {
		pr_perror("msgget");
		return 1;
	}
	if (msgsnd(id, &m1, strlen(m1.text) + 1, 0) || msgsnd(id, &m2, strlen(m2.text) + 1, 0)) {
		pr_perror("msgsnd");
		goto err;
	}

	test_daemon();
	test_waitsig();

	if (ns_ino("/proc/self/ns/ipc", &now))
		goto err;
	/* not the outer one: asked of a child still in it (a dead namespace's number may be reused) */
	if (ns_outer_ino("ipc", &outer) || now == outer) {
		errno = 0;
		fail("after C/R the test is in the outer IPC namespace (%lu), not one of its own", (unsigned long)now);
		goto err;
	}
	id2 = msgget(KEY, 0);
	if (id2 != id) {
		fail("msgget(key) after C/R gives %d, the queue was %d", id2, id);
		goto err;
	}
	if (msgctl(id, IPC_STAT, &ds) || ds.msg_qnum != 2) {
		fail("the queue after C/R: IPC_STAT qnum %lu, expected 2", (unsigned long)ds.msg_qnum);
		goto err;
	}
	n = msgrcv(id, &r, sizeof(r.text), 0, IPC_NOWAIT);
	if (n != (ssize_t)strlen(m1.text) + 1 || r.mtype != m1.mtype || strcmp(r.text, m1.text)) {
		fail("first message after C/R: %zd bytes type %ld", n, r.mtype);
		goto err;
	}
	n = msgrcv(id, &r, sizeof(r.text), 0, IPC_NOWAIT);
	if (n != (ssize_t)strlen(m2.text) + 1 || r.mtype != m2.mtype || strcmp(r.text, m2.text)) {
		fail("second message after C/R: %zd bytes type %ld", n, r.mtype);
		goto err;
	}
	msgctl(id, IPC_RMID, NULL);
	ns_outer_stop();
	pass();
	return 0;
err:
	msgctl(id, IPC_RMID, NULL);
	return 1;
}
