#include <errno.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "A SysV semaphore set operated on by the test and by its child without SEM_UNDO (no undo "
		       "list: nothing the dump cannot read): after C/R the values and the last operating pids "
		       "(sempid) are as before, and the child's death changes nothing";
const char *test_author = "Stasis developers";

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static int check(int id, int nr, int val, pid_t pid, const char *when)
{
	int v = semctl(id, nr, GETVAL), p = semctl(id, nr, GETPID);

	if (v != val || p != pid) {
		fail("%s: semaphore %d has value %d, sempid %d; expected %d, %d", when, nr, v, p, val, pid);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sembuf op = { .sem_num = 0, .sem_op = 5, .sem_flg = IPC_NOWAIT };
	int id, p[2], status, ret = 1;
	pid_t child;
	char c;

	test_init(argc, argv);

	id = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
	if (id < 0 || semop(id, &op, 1) || pipe(p)) {
		pr_perror("semget/semop/pipe");
		return 1;
	}
	child = fork();
	if (child < 0) {
		pr_perror("fork");
		goto out;
	}
	if (child == 0) {
		struct sembuf cop = { .sem_num = 1, .sem_op = 3, .sem_flg = IPC_NOWAIT };

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(p[0]);
		if (semop(id, &cop, 1) || write(p[1], "r", 1) != 1)
			_exit(1);
		while (1)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		pr_err("the child failed\n");
		goto out;
	}
	op.sem_op = -2;
	if (semop(id, &op, 1) || check(id, 0, 3, getpid(), "before C/R") || check(id, 1, 3, child, "before C/R"))
		goto out;

	test_daemon();
	test_waitsig();

	if (check(id, 0, 3, getpid(), "after C/R") || check(id, 1, 3, child, "after C/R"))
		goto out;
	kill(child, SIGKILL);
	if (waitpid(child, &status, 0) != child) {
		pr_perror("waitpid");
		goto out;
	}
	child = 0;
	if (check(id, 1, 3, 0, "after C/R, the child dead") && semctl(id, 1, GETVAL) != 3)
		goto out;
	op.sem_op = -3;
	if (semop(id, &op, 1) || semctl(id, 0, GETVAL) != 0) {
		fail("semop after C/R");
		goto out;
	}
	pass();
	ret = 0;
out:
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	semctl(id, 0, IPC_RMID);
	return ret;
}
