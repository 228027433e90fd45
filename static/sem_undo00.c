#include <signal.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "SysV semaphores with SEM_UNDO adjustments pending: the test took 1 from semaphore 0 "
		       "(value 3 -> 2) and a child 1 from semaphore 1, both with SEM_UNDO. After C/R the values "
		       "are 2 and 2 (no undo applied), sempid is the test's and the child's, and the child's undo "
		       "is applied when it dies";
const char *test_author = "Stasis developers";

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static int semid = -1;
static pid_t child;

static int check_sem(int nr, int val, pid_t pid, const char *when)
{
	int v = semctl(semid, nr, GETVAL), p = semctl(semid, nr, GETPID), z = semctl(semid, nr, GETNCNT);

	if (v != val || (pid && p != pid) || z != 0) {
		fail("%s: semaphore %d has value %d, sempid %d, semncnt %d; expected %d, %d, 0", when, nr, v, p, z,
		     val, pid);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sembuf op = { .sem_num = 0, .sem_op = -1, .sem_flg = SEM_UNDO | IPC_NOWAIT };
	unsigned short init[2] = { 3, 3 };
	union semun arg = { .array = init };
	int p[2], status, ret = 1, i;
	char c;

	test_init(argc, argv);

	semid = semget(IPC_PRIVATE, 2, 0600 | IPC_CREAT);
	if (semid < 0) {
		pr_perror("semget");
		return 1;
	}
	if (semctl(semid, 0, SETALL, arg) || semop(semid, &op, 1)) {
		pr_perror("SETALL/semop");
		goto out;
	}
	if (pipe(p)) {
		pr_perror("pipe");
		goto out;
	}
	child = fork();
	if (child < 0) {
		pr_perror("fork");
		goto out;
	}
	if (child == 0) {
		struct sembuf cop = { .sem_num = 1, .sem_op = -1, .sem_flg = SEM_UNDO | IPC_NOWAIT };

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(p[0]);
		if (semop(semid, &cop, 1))
			_exit(1);
		if (write(p[1], "r", 1) != 1)
			_exit(2);
		while (1)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		pr_err("the child did not take its semaphore\n");
		goto out;
	}
	close(p[0]);
	if (check_sem(0, 2, getpid(), "before C/R") || check_sem(1, 2, child, "before C/R"))
		goto out;

	test_daemon();
	test_waitsig();

	if (check_sem(0, 2, getpid(), "after C/R") || check_sem(1, 2, child, "after C/R"))
		goto out;
	/* the child's SEM_UNDO adjustment is still its own: it is applied when the child exits */
	kill(child, SIGKILL);
	if (waitpid(child, &status, 0) != child) {
		pr_perror("waitpid");
		goto out;
	}
	child = 0;
	for (i = 0; i < 100 && semctl(semid, 1, GETVAL) != 3; i++)
		usleep(10000);
	if (check_sem(1, 3, 0, "after C/R, once the child is dead (its undo applied)") ||
	    check_sem(0, 2, 0, "after C/R, once the child is dead"))
		goto out;
	pass();
	ret = 0;
out:
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	semctl(semid, 0, IPC_RMID);
	return ret;
}
