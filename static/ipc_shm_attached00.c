#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/shm.h>

#include "zdtmtst.h"

const char *test_doc = "A SysV shared memory segment the test keeps attached, and a message queue, in its own IPC "
		       "namespace: attached segments are not restored yet, so the dump must be refused with the "
		       "tree left running; afterwards the segment still holds its data and the queue its message";
const char *test_author = "Stasis developers";

#define TEXT "ipc_shm_attached_refused00"

struct m {
	long mtype;
	char text[32];
};

int main(int argc, char **argv)
{
	struct m msg = { .mtype = 7 }, got;
	int shm, q;
	char *p;

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
