#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "SysV objects of the test's own IPC namespace, none attached: a shared memory segment "
		       "with a key, mode 0640, another owner and a pattern, a private semaphore set of 5 with "
		       "values (set by a child that exited), a message queue with three messages of different types and sizes (and an empty "
		       "queue), at ids other than the first: after C/R each is at its id with its key, mode, owner, size, content, values and messages in order";
const char *test_author = "Stasis developers";

#define SHM_KEY 0x5a11
#define MSG_KEY 0x5a12
#define SHM_SIZE 10000
#define NSEMS 5

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

struct m {
	long mtype;
	char text[256];
};

static const struct {
	long type;
	const char *text;
} msgs[] = { { 3, "first" }, { 1, "the second, longer message" }, { 7, "" } };

static unsigned char pattern(int i)
{
	return (unsigned char)(i * 7 + 3);
}

int main(int argc, char **argv)
{
	int shm, sem, q, i, n;
	unsigned short vals[NSEMS], now[NSEMS];
	struct shmid_ds sds;
	struct msqid_ds mds;
	union semun arg;
	unsigned char *p;
	struct m msg;

	test_init(argc, argv);

	/* ids other than the first ones: a removed segment bumps the slot's sequence, a kept queue the slot */
	i = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (i < 0 || shmctl(i, IPC_RMID, NULL) || msgget(IPC_PRIVATE, IPC_CREAT | 0600) < 0) {
		pr_perror("the first objects");
		return 1;
	}
	shm = shmget(SHM_KEY, SHM_SIZE, IPC_CREAT | IPC_EXCL | 0640);
	sem = semget(IPC_PRIVATE, NSEMS, IPC_CREAT | 0600);
	q = msgget(MSG_KEY, IPC_CREAT | IPC_EXCL | 0620);
	if (shm < 0 || sem < 0 || q < 0 || shm == 0 || q == 0) {
		pr_perror("shmget/semget/msgget (ids %d %d %d)", shm, sem, q);
		return 1;
	}
	p = shmat(shm, NULL, 0);
	if (p == (void *)-1) {
		pr_perror("shmat");
		return 1;
	}
	for (i = 0; i < SHM_SIZE; i++)
		p[i] = pattern(i);
	shmdt(p);
	if (shmctl(shm, IPC_STAT, &sds)) {
		pr_perror("IPC_STAT");
		return 1;
	}
	sds.shm_perm.uid = 1234;
	sds.shm_perm.gid = 5678;
	if (shmctl(shm, IPC_SET, &sds)) {
		pr_perror("IPC_SET");
		return 1;
	}
	for (i = 0; i < NSEMS; i++)
		vals[i] = 100 * i + 1;
	/*
	 * The values are set by a child that exits: a semaphore the tree itself last operated on is refused
	 * (its SEM_UNDO adjustments cannot be read).
	 */
	arg.array = vals;
	n = fork();
	if (n == 0)
		_exit(semctl(sem, 0, SETALL, arg) ? 1 : 0);
	if (n < 0 || waitpid(n, &i, 0) != n || i) {
		pr_perror("SETALL in a child");
		return 1;
	}
	for (i = 0; i < 3; i++) {
		msg.mtype = msgs[i].type;
		strcpy(msg.text, msgs[i].text);
		if (msgsnd(q, &msg, strlen(msgs[i].text), IPC_NOWAIT)) {
			pr_perror("msgsnd");
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	if (shmget(SHM_KEY, 0, 0) != shm || shmctl(shm, IPC_STAT, &sds)) {
		fail("the segment of key %#x is not id %d after C/R", SHM_KEY, shm);
		return 1;
	}
	if (sds.shm_segsz != SHM_SIZE || (sds.shm_perm.mode & 0777) != 0640 || sds.shm_perm.uid != 1234 ||
	    sds.shm_perm.gid != 5678 || sds.shm_nattch) {
		errno = 0;
		fail("the segment after C/R: size %zu mode %o owner %d:%d attached %lu", (size_t)sds.shm_segsz,
		     sds.shm_perm.mode & 0777, (int)sds.shm_perm.uid, (int)sds.shm_perm.gid,
		     (unsigned long)sds.shm_nattch);
		return 1;
	}
	p = shmat(shm, NULL, SHM_RDONLY);
	if (p == (void *)-1) {
		fail("shmat after C/R");
		return 1;
	}
	for (i = 0; i < SHM_SIZE; i++)
		if (p[i] != pattern(i)) {
			errno = 0;
			fail("byte %d of the segment is %#x after C/R", i, p[i]);
			return 1;
		}
	shmdt(p);
	arg.array = now;
	if (semctl(sem, 0, GETALL, arg) || memcmp(now, vals, sizeof(vals))) {
		fail("the semaphore values after C/R");
		return 1;
	}
	if (msgget(MSG_KEY, 0) != q || msgctl(q, IPC_STAT, &mds) || mds.msg_qnum != 3 ||
	    (mds.msg_perm.mode & 0777) != 0620) {
		fail("the queue after C/R (%lu messages, mode %o)", (unsigned long)mds.msg_qnum, mds.msg_perm.mode & 0777);
		return 1;
	}
	for (i = 0; i < 3; i++) {
		n = msgrcv(q, &msg, sizeof(msg.text), 0, IPC_NOWAIT);
		if (n != (int)strlen(msgs[i].text) || msg.mtype != msgs[i].type || memcmp(msg.text, msgs[i].text, n)) {
			fail("message %d after C/R: type %ld, %d bytes", i, msg.mtype, n);
			return 1;
		}
	}
	shmctl(shm, IPC_RMID, NULL);
	semctl(sem, 0, IPC_RMID);
	msgctl(q, IPC_RMID, NULL);
	pass();
	return 0;
}
