#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "kernel.shm_rmid_forced = 1 in the test's own IPC namespace (a segment goes when its "
		       "creator exits unattached, or when its last attach goes), with a segment the test attached: "
		       "after C/R the sysctl is 1, the segment is attached with its content, and it goes away "
		       "with its last detach";
const char *test_author = "Stasis developers";

static int sysctl(const char *val)
{
	int fd = open("/proc/sys/kernel/shm_rmid_forced", val ? O_WRONLY : O_RDONLY);
	char c = 0;
	int ret;

	if (fd < 0)
		return -1;
	ret = val ? (write(fd, val, 1) == 1 ? 0 : -1) : (read(fd, &c, 1) == 1 ? c : -1);
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	struct shmid_ds ds;
	int id;
	char *p;

	test_init(argc, argv);

	if (sysctl("1")) {
		pr_perror("kernel.shm_rmid_forced");
		return 1;
	}
	id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
	if (p == (void *)-1) {
		pr_perror("shmget/shmat");
		return 1;
	}
	strcpy(p, "forced");

	test_daemon();
	test_waitsig();

	if (sysctl(NULL) != '1') {
		fail("kernel.shm_rmid_forced after C/R");
		return 1;
	}
	if (shmctl(id, IPC_STAT, &ds) || ds.shm_nattch != 1 || strcmp(p, "forced")) {
		fail("the segment after C/R");
		return 1;
	}
	shmdt(p);
	if (shmctl(id, IPC_STAT, &ds) != -1 || (errno != EINVAL && errno != EIDRM)) {
		fail("the segment is still there after its last detach (shm_rmid_forced)");
		return 1;
	}
	pass();
	return 0;
}
