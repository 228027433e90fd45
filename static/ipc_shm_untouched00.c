#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "A SysV segment the test keeps attached (written after the attach), and a POSIX message "
		       "queue with a notification registered, which makes the dump refuse after it read the "
		       "segment: the segment must be untouched (attach count, last pid, attach and detach times, "
		       "content) and the tree left running";
const char *test_author = "Stasis developers";

#define NAME "/zdtm-shm-untouched00"

int main(int argc, char **argv)
{
	struct mq_attr attr = { .mq_maxmsg = 2, .mq_msgsize = 16 };
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
	struct shmid_ds before, after;
	int id;
	char *p;
	mqd_t mq;

	test_init(argc, argv);

	id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
	p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
	mq_unlink(NAME);
	mq = mq_open(NAME, O_CREAT | O_EXCL | O_RDONLY, 0600, &attr);
	signal(SIGUSR1, SIG_IGN);
	if (p == (void *)-1 || mq == (mqd_t)-1 || mq_notify(mq, &sev)) {
		pr_perror("shmget/shmat/mq_open/mq_notify");
		return 1;
	}
	strcpy(p + 5000, "written after the attach");
	sleep(1); /* the times of a read attach would differ by a second at least */
	if (shmctl(id, IPC_STAT, &before)) {
		pr_perror("IPC_STAT");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (shmctl(id, IPC_STAT, &after) || after.shm_nattch != 1 || after.shm_lpid != before.shm_lpid ||
	    after.shm_atime != before.shm_atime || after.shm_dtime != before.shm_dtime ||
	    strcmp(p + 5000, "written after the attach")) {
		errno = 0;
		fail("the segment after the refused dump: nattch %lu lpid %d (was %d) atime %ld (was %ld) dtime %ld "
		     "(was %ld)", (unsigned long)after.shm_nattch, after.shm_lpid, before.shm_lpid,
		     (long)after.shm_atime, (long)before.shm_atime, (long)after.shm_dtime, (long)before.shm_dtime);
		return 1;
	}
	shmdt(p);
	shmctl(id, IPC_RMID, NULL);
	mq_close(mq);
	mq_unlink(NAME);
	pass();
	return 0;
}
