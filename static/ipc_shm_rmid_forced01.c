#include <errno.h>
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "kernel.shm_rmid_forced = 1 in the test's own IPC namespace and a segment nobody attached "
		       "(it lives while its creator, the test, does): restore could not make the test its creator, "
		       "so the dump must be refused with the tree left running; afterwards the segment is there";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	struct shmid_ds ds;
	int fd, id;

	test_init(argc, argv);

	fd = open("/proc/sys/kernel/shm_rmid_forced", O_WRONLY);
	if (fd < 0 || write(fd, "1", 1) != 1) {
		pr_perror("kernel.shm_rmid_forced");
		return 1;
	}
	close(fd);
	id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (id < 0) {
		pr_perror("shmget");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (shmctl(id, IPC_STAT, &ds) || ds.shm_nattch != 0 || ds.shm_segsz != 4096) {
		fail("the segment after the refused dump");
		return 1;
	}
	shmctl(id, IPC_RMID, NULL);
	pass();
	return 0;
}
