#include <errno.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "zdtmtst.h"

const char *test_doc = "Two SysV segments locked in memory with SHM_LOCK, one attached and one not: after C/R both "
		       "are still locked (SHM_LOCKED in their mode) with their content, and SHM_UNLOCK works";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	struct shmid_ds ds;
	int a, b, i;
	char *p, *q;

	test_init(argc, argv);

	a = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
	b = shmget(0x5a61, 4096, IPC_CREAT | IPC_EXCL | 0600);
	p = a < 0 ? (void *)-1 : shmat(a, NULL, 0);
	q = b < 0 ? (void *)-1 : shmat(b, NULL, 0);
	if (p == (void *)-1 || q == (void *)-1) {
		pr_perror("shmget/shmat");
		return 1;
	}
	strcpy(p + 4096, "locked and attached");
	strcpy(q, "locked, not attached");
	shmdt(q);
	if (shmctl(a, SHM_LOCK, NULL) || shmctl(b, SHM_LOCK, NULL)) {
		pr_perror("SHM_LOCK");
		return 1;
	}

	test_daemon();
	test_waitsig();

	for (i = 0; i < 2; i++) {
		if (shmctl(i ? b : a, IPC_STAT, &ds) || !(ds.shm_perm.mode & SHM_LOCKED) || ds.shm_nattch != !i) {
			errno = 0;
			fail("segment %d after C/R: mode %o, nattch %lu", i ? b : a, ds.shm_perm.mode,
			     (unsigned long)ds.shm_nattch);
			return 1;
		}
	}
	q = shmat(b, NULL, SHM_RDONLY);
	if (strcmp(p + 4096, "locked and attached") || q == (void *)-1 || strcmp(q, "locked, not attached")) {
		fail("the content after C/R");
		return 1;
	}
	if (shmctl(a, SHM_UNLOCK, NULL) || shmctl(a, IPC_STAT, &ds) || (ds.shm_perm.mode & SHM_LOCKED)) {
		fail("SHM_UNLOCK after C/R");
		return 1;
	}
	shmdt(p);
	shmdt(q);
	shmctl(a, IPC_RMID, NULL);
	shmctl(b, IPC_RMID, NULL);
	pass();
	return 0;
}
