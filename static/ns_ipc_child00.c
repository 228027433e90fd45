#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/shm.h>
#include <sys/stat.h>

#include "zdtmtst.h"
#include "ns_child.h"

const char *test_doc = "A child in an IPC namespace of its own (unshare CLONE_NEWIPC) with a shared memory "
		       "segment (content written), a message queue with two messages and its own kernel.msgmax: "
		       "after C/R the child finds them all (and itself as the segment's last detacher) and the test (in "
		       "its own IPC namespace) sees none";
const char *test_author = "Stasis developers";

#define KEY 0x5a1dc0de
#define SIZE (64 << 10)
#define MSGMAX "12345"

struct msg {
	long type;
	char text[32];
};

static int read_sysctl(char *buf, size_t len)
{
	if (read_value("/proc/sys/kernel/msgmax", buf, len))
		return 1;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int child(int go, int ready)
{
	struct msg m = { .type = 7 };
	char buf[32], c;
	int shm, q, i;
	uint8_t *p;

	if (unshare(CLONE_NEWIPC))
		return pr_perror("unshare(CLONE_NEWIPC)");
	{
		int fd = open("/proc/sys/kernel/msgmax", O_WRONLY);

		if (fd < 0 || write(fd, MSGMAX, strlen(MSGMAX)) != (ssize_t)strlen(MSGMAX))
			return pr_perror("write kernel.msgmax");
		close(fd);
	}
	shm = shmget(KEY, SIZE, IPC_CREAT | IPC_EXCL | 0600);
	q = msgget(KEY, IPC_CREAT | IPC_EXCL | 0600);
	if (shm < 0 || q < 0)
		return pr_perror("shmget/msgget");
	p = shmat(shm, NULL, 0);
	if (p == (void *)-1)
		return pr_perror("shmat");
	for (i = 0; i < SIZE; i++)
		p[i] = (uint8_t)(i * 31 + 7);
	if (shmdt(p))
		return pr_perror("shmdt");
	strcpy(m.text, "first");
	if (msgsnd(q, &m, sizeof(m.text), 0))
		return pr_perror("msgsnd");
	m.type = 9;
	strcpy(m.text, "second");
	if (msgsnd(q, &m, sizeof(m.text), 0))
		return pr_perror("msgsnd");
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 1)
		return 2;

	if (read_sysctl(buf, sizeof(buf)) || strcmp(buf, MSGMAX)) {
		pr_err("kernel.msgmax is %s, not %s\n", buf, MSGMAX);
		return 1;
	}
	shm = shmget(KEY, 0, 0);
	q = msgget(KEY, 0);
	if (shm < 0 || q < 0)
		return pr_perror("after C/R: shmget/msgget");
	{
		struct shmid_ds ds;

		/* the child detached last: shm_lpid is its pid again */
		if (shmctl(shm, IPC_STAT, &ds))
			return pr_perror("shmctl(IPC_STAT)");
		if (ds.shm_lpid != getpid()) {
			pr_err("shm_lpid is %d, not the child's %d\n", ds.shm_lpid, getpid());
			return 1;
		}
	}
	p = shmat(shm, NULL, SHM_RDONLY);
	if (p == (void *)-1)
		return pr_perror("shmat");
	for (i = 0; i < SIZE; i++)
		if (p[i] != (uint8_t)(i * 31 + 7)) {
			pr_err("segment byte %d is %u\n", i, p[i]);
			return 1;
		}
	if (msgrcv(q, &m, sizeof(m.text), 0, IPC_NOWAIT) < 0 || m.type != 7 || strcmp(m.text, "first") ||
	    msgrcv(q, &m, sizeof(m.text), 0, IPC_NOWAIT) < 0 || m.type != 9 || strcmp(m.text, "second")) {
		pr_err("the messages are not back in order\n");
		return 1;
	}
	if (msgrcv(q, &m, sizeof(m.text), 0, IPC_NOWAIT) >= 0) {
		pr_err("a third message\n");
		return 1;
	}
	shmctl(shm, IPC_RMID, NULL);
	msgctl(q, IPC_RMID, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	struct ns_child kid;
	char mine[32];

	test_init(argc, argv);
	if (unshare(CLONE_NEWIPC)) { /* the test's own too: in h the host's would have the engine refuse */
		pr_perror("unshare(CLONE_NEWIPC)");
		return 1;
	}
	if (ns_child_start(&kid, child))
		return 1;
	if (read_sysctl(mine, sizeof(mine)))
		return 1;

	test_daemon();
	test_waitsig();

	if (shmget(KEY, 0, 0) >= 0 || msgget(KEY, 0) >= 0) {
		fail("the test sees the child's objects in its own IPC namespace");
		return 1;
	}
	{
		char now[32];

		if (read_sysctl(now, sizeof(now)) || strcmp(now, mine)) {
			fail("the test's kernel.msgmax changed");
			return 1;
		}
	}
	if (ns_child_finish(&kid, "IPC namespace"))
		return 1;
	pass();
	return 0;
}
