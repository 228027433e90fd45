#include <errno.h>
#include <pthread.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "A threaded test (pthread_create clones with CLONE_SYSVSEM, which gives the process a SysV "
		       "semaphore undo list) with a semaphore set it changed without SEM_UNDO: the kernel cannot "
		       "show that the list is empty, so the dump must be refused with the tree left running; "
		       "afterwards the value is as it was and the thread still runs";
const char *test_author = "Stasis developers";

static volatile int ticks;

static void *spin(void *arg)
{
	while (1) {
		ticks++;
		usleep(1000);
	}
	return arg;
}

int main(int argc, char **argv)
{
	struct sembuf op = { .sem_num = 0, .sem_op = 3, .sem_flg = IPC_NOWAIT };
	pthread_t th;
	int id, before;

	test_init(argc, argv);

	id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
	if (id < 0 || semop(id, &op, 1) || pthread_create(&th, NULL, spin, NULL)) {
		pr_perror("semget/semop/pthread_create");
		return 1;
	}
	while (ticks < 2) /* the thread is past its start (its signal mask is its own) */
		usleep(1000);

	test_daemon();
	test_waitsig();

	before = ticks;
	usleep(100000);
	if (semctl(id, 0, GETVAL) != 3 || ticks == before) {
		fail("after the refused dump: value %d, the thread %s", semctl(id, 0, GETVAL),
		     ticks == before ? "stopped" : "runs");
		return 1;
	}
	semctl(id, 0, IPC_RMID);
	pass();
	return 0;
}
