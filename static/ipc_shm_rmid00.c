#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "A SysV segment made with a key, attached by the test and (by fork) its child, then "
		       "removed with IPC_RMID while attached (key 0, SHM_DEST): after C/R it is still removed (its "
		       "key finds nothing, mode has SHM_DEST), attached twice, named /SYSV<key> in maps, with its "
		       "content; it goes away when the last process detaches";
const char *test_author = "Stasis developers";

#define SIZE 4096
#define KEY 0x5a51

static int named(void *addr)
{
	char line[512], want[64];
	unsigned long s;
	FILE *f = fopen("/proc/self/maps", "r");
	int ok = 0;

	ssprintf(want, "/SYSV%08x (deleted)", KEY);
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-", &s) == 1 && s == (unsigned long)addr && strstr(line, want))
			ok = 1;
	if (f)
		fclose(f);
	return ok;
}

int main(int argc, char **argv)
{
	int id, to_child[2], status, ret = 1;
	struct shmid_ds ds;
	char *p, c;
	pid_t pid;

	test_init(argc, argv);

	id = shmget(KEY, SIZE, IPC_CREAT | IPC_EXCL | 0640);
	p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
	if (p == (void *)-1 || pipe(to_child)) {
		pr_perror("shmget/shmat/pipe");
		return 1;
	}
	strcpy(p, "still here");
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (read(to_child[0], &c, 1) != 1)
			_exit(1);
		_exit(strcmp(p, "still here, and after C/R") ? 2 : 0);
	}
	close(to_child[0]);
	if (shmctl(id, IPC_RMID, NULL)) {
		pr_perror("IPC_RMID");
		goto out;
	}

	test_daemon();
	test_waitsig();

	if (shmctl(id, IPC_STAT, &ds)) {
		fail("the removed segment %d is gone after C/R", id);
		goto out;
	}
	if (ds.shm_nattch != 2 || !(ds.shm_perm.mode & SHM_DEST) || ds.shm_perm.__key != 0 ||
	    (ds.shm_perm.mode & 0777) != 0640) {
		errno = 0;
		fail("after C/R: nattch %lu, mode %o, key %#x", (unsigned long)ds.shm_nattch, ds.shm_perm.mode,
		     ds.shm_perm.__key);
		goto out;
	}
	if (shmget(KEY, 0, 0) != -1 || errno != ENOENT) {
		fail("key %#x finds a segment after C/R", KEY);
		goto out;
	}
	if (!named(p) || strcmp(p, "still here")) {
		errno = 0;
		fail("the attach after C/R: named %d, holds \"%.16s\"", named(p), p);
		goto out;
	}
	strcat(p, ", and after C/R");
	if (write(to_child[1], "g", 1) != 1 || waitpid(pid, &status, 0) != pid || status) {
		fail("the child did not see the segment after C/R (status %#x)", status);
		goto out;
	}
	pid = 0;
	if (shmctl(id, IPC_STAT, &ds) || ds.shm_nattch != 1) {
		fail("nattch after the child's exit: %lu", (unsigned long)ds.shm_nattch);
		goto out;
	}
	shmdt(p);
	p = NULL;
	if (shmctl(id, IPC_STAT, &ds) != -1 || (errno != EINVAL && errno != EIDRM)) {
		fail("the segment is still there after its last detach");
		goto out;
	}
	pass();
	ret = 0;
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (p)
		shmdt(p);
	return ret;
}
