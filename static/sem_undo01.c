#include <errno.h>
#include <sys/ipc.h>
#include <sys/sem.h>

#include "zdtmtst.h"

const char *test_doc = "The test used SEM_UNDO on a semaphore set and then removed the set (which drops the set's "
		       "undo adjustments): it has an undo list, but with no semaphore set left it holds nothing, so "
		       "C/R goes through; after C/R a new set can be used with SEM_UNDO";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	struct sembuf op = { .sem_num = 0, .sem_op = 1, .sem_flg = SEM_UNDO | IPC_NOWAIT };
	int id;

	test_init(argc, argv);

	id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
	if (id < 0 || semop(id, &op, 1) || semctl(id, 0, IPC_RMID)) {
		pr_perror("semget/semop/IPC_RMID");
		return 1;
	}

	test_daemon();
	test_waitsig();

	id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
	if (id < 0 || semop(id, &op, 1) || semctl(id, 0, GETVAL) != 1) {
		fail("a new set with SEM_UNDO after C/R");
		return 1;
	}
	semctl(id, 0, IPC_RMID);
	pass();
	return 0;
}
