#include <errno.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "zdtmtst.h"

const char *test_doc = "A SysV segment attached by the test in the IPC namespace it shares with the engine (flavor "
		       "h): the segment is not the tree's to dump, so the dump must be refused with the tree left "
		       "running; afterwards the attach still holds its data and is the segment's only attach";
const char *test_author = "Stasis developers";

#define TEXT "ipc_shm_host00"

int main(int argc, char **argv)
{
	struct shmid_ds ds;
	int id;
	char *p;

	test_init(argc, argv);

	id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
	if (p == (void *)-1) {
		pr_perror("shmget/shmat");
		return 1;
	}
	strcpy(p, TEXT);

	test_daemon();
	test_waitsig();

	if (strcmp(p, TEXT) || shmctl(id, IPC_STAT, &ds) || ds.shm_nattch != 1) {
		errno = 0;
		fail("the segment after the refused dump: \"%.16s\", nattch %lu", p, (unsigned long)ds.shm_nattch);
		return 1;
	}
	shmdt(p);
	shmctl(id, IPC_RMID, NULL);
	pass();
	return 0;
}
