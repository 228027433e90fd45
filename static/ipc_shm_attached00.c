#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/shm.h>

#include "zdtmtst.h"

const char *test_doc = "A SysV shared memory segment the test keeps attached read-write, and a message queue, in its "
		       "own IPC namespace: after C/R the segment is attached at the same address (shm_nattch 1), "
		       "holds what was written before the dump, the same memory as the segment (a write through "
		       "the attach is seen by a new attach), and the queue keeps its message";
const char *test_author = "Stasis developers";

#define TEXT "ipc_shm_attached00"

struct m {
	long mtype;
	char text[32];
};

int main(int argc, char **argv)
{
	struct m msg = { .mtype = 7 }, got;
	struct shmid_ds ds;
	int shm, q;
	char *p, *p2;

	test_init(argc, argv);

	shm = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (shm < 0 || q < 0) {
		pr_perror("shmget/msgget");
		return 1;
	}
	p = shmat(shm, NULL, 0);
	if (p == (void *)-1) {
		pr_perror("shmat");
		return 1;
	}
	strcpy(p, TEXT);
	strcpy(msg.text, TEXT);
	if (msgsnd(q, &msg, sizeof(msg.text), IPC_NOWAIT)) {
		pr_perror("msgsnd");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (strcmp(p, TEXT)) {
		errno = 0;
		fail("the segment holds \"%.32s\"", p);
		return 1;
	}
	if (shmctl(shm, IPC_STAT, &ds) || ds.shm_nattch != 1 || ds.shm_segsz != 4096) {
		fail("the segment after C/R: attached %lu times, size %zu", (unsigned long)ds.shm_nattch,
		     (size_t)ds.shm_segsz);
		return 1;
	}
	/* the attach is the segment itself, not a copy */
	strcpy(p + 100, "written after C/R");
	p2 = shmat(shm, NULL, SHM_RDONLY);
	if (p2 == (void *)-1 || strcmp(p2 + 100, "written after C/R") || strcmp(p2, TEXT)) {
		fail("a second attach does not see the first one's bytes");
		return 1;
	}
	shmdt(p2);
	if (msgrcv(q, &got, sizeof(got.text), 7, IPC_NOWAIT) != sizeof(got.text) || strcmp(got.text, TEXT)) {
		fail("the queued message");
		return 1;
	}
	shmdt(p);
	shmctl(shm, IPC_RMID, NULL);
	msgctl(q, IPC_RMID, NULL);
	pass();
	return 0;
}
