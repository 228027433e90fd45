#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "A SysV segment attached by two processes: the test's attach (inherited by its child by "
		       "fork) and an attach of the child's own at another address (shm_nattch 3): after C/R both "
		       "processes map the same segment (a write by the child is read by the parent, at both of the "
		       "child's addresses), shm_nattch is 3, shm_lpid the child's, and 1 once the child has exited";
const char *test_author = "Stasis developers";

#define SIZE 8192
#define KEY 0x5a41

int main(int argc, char **argv)
{
	int id, to_child[2], to_parent[2], status, ret = 1;
	struct shmid_ds ds;
	char *p, c = 0;
	pid_t pid;

	test_init(argc, argv);

	id = shmget(KEY, SIZE, IPC_CREAT | IPC_EXCL | 0600);
	p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
	if (p == (void *)-1 || pipe(to_child) || pipe(to_parent)) {
		pr_perror("shmget/shmat/pipe");
		return 1;
	}
	strcpy(p, "from the parent");
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		char *mine = shmat(id, NULL, 0);

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (mine == (void *)-1 || write(to_parent[1], "r", 1) != 1)
			_exit(1);
		if (read(to_child[0], &c, 1) != 1)
			_exit(2);
		/* after C/R: write through the own attach, check the inherited one sees it */
		strcpy(mine + 4096, "from the child");
		if (strcmp(p + 4096, "from the child") || strcmp(mine, "from the parent"))
			_exit(3);
		if (write(to_parent[1], "w", 1) != 1)
			_exit(4);
		if (read(to_child[0], &c, 1) != 1)
			_exit(5);
		_exit(0);
	}
	if (read(to_parent[0], &c, 1) != 1 || shmctl(id, IPC_STAT, &ds) || ds.shm_nattch != 3 || ds.shm_lpid != pid) {
		pr_err("the child did not attach (nattch %lu, lpid %d)\n", (unsigned long)ds.shm_nattch, ds.shm_lpid);
		goto out;
	}

	test_daemon();
	test_waitsig();

	if (shmctl(id, IPC_STAT, &ds) || ds.shm_nattch != 3 || ds.shm_lpid != pid) {
		fail("shm_nattch is %lu, shm_lpid %d after C/R, expected 3 and %d", (unsigned long)ds.shm_nattch,
		     ds.shm_lpid, pid);
		goto out;
	}
	if (write(to_child[1], "g", 1) != 1 || read(to_parent[0], &c, 1) != 1 || c != 'w') {
		fail("the child failed after C/R");
		goto out;
	}
	if (strcmp(p + 4096, "from the child")) {
		errno = 0;
		fail("the child's write is not seen by the parent after C/R: \"%.20s\"", p + 4096);
		goto out;
	}
	if (write(to_child[1], "x", 1) != 1 || waitpid(pid, &status, 0) != pid || status) {
		fail("the child's exit (status %#x)", status);
		goto out;
	}
	pid = 0;
	if (shmctl(id, IPC_STAT, &ds) || ds.shm_nattch != 1) {
		fail("shm_nattch is %lu once the child has exited, expected 1", (unsigned long)ds.shm_nattch);
		goto out;
	}
	pass();
	ret = 0;
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	shmdt(p);
	shmctl(id, IPC_RMID, NULL);
	return ret;
}
