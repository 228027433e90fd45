#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include "mnt_util.h"

const char *test_doc = "The ids the test's IPC namespace gives its next System V objects, set through "
		       "kernel.{msg,sem,shm}_next_id (no object exists at the dump): after C/R the sysctls read "
		       "the same, and the first message queue, semaphore set and shared memory segment made get "
		       "exactly those ids (then the sysctls read -1 again)";
const char *test_author = "Stasis developers";

static const struct {
	const char *path;
	int id;
} ids[] = {
	{ "/proc/sys/kernel/msg_next_id", 1234 },
	{ "/proc/sys/kernel/sem_next_id", 56789 },
	{ "/proc/sys/kernel/shm_next_id", 32768 * 3 + 7 },
};

static int read_int(const char *path, int *v)
{
	char buf[32];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return pr_perror("read %s", path);
	buf[n] = 0;
	*v = atoi(buf);
	return 0;
}

static int write_int(const char *path, int v)
{
	char buf[32];
	int fd = open(path, O_WRONLY), len = snprintf(buf, sizeof(buf), "%d", v);

	if (fd < 0 || write(fd, buf, len) != len || close(fd))
		return pr_perror("write %s", path);
	return 0;
}

static int sysctls_are(int set)
{
	unsigned i;
	int v;

	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		if (read_int(ids[i].path, &v))
			return -1;
		if (v != (set ? ids[i].id : -1)) {
			pr_err("%s is %d\n", ids[i].path, v);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	int msg, sem, shm;
	unsigned i;

	test_init(argc, argv);

	for (i = 0; i < ARRAY_SIZE(ids); i++)
		if (write_int(ids[i].path, ids[i].id))
			return 1;
	if (sysctls_are(1))
		return 1;

	test_daemon();
	test_waitsig();

	if (sysctls_are(1)) {
		fail("the next ids after C/R");
		return 1;
	}
	msg = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	sem = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
	shm = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (msg != ids[0].id || sem != ids[1].id || shm != ids[2].id) {
		fail("objects made after C/R got ids %d %d %d", msg, sem, shm);
		return 1;
	}
	if (sysctls_are(0)) {
		fail("the next ids after the objects were made");
		return 1;
	}
	msgctl(msg, IPC_RMID, NULL);
	semctl(sem, 0, IPC_RMID);
	shmctl(shm, IPC_RMID, NULL);
	pass();
	return 0;
}
