#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "zdtmtst.h"
#include "vmflags.h"

const char *test_doc = "A group-stopped child whose second thread got a SIGSTOP by tgkill while the group was stopped "
		       "(pending in that thread's own queue) and another to the group, with SIGUSR1 blocked in its leader and a blocked SIGUSR2 "
		       "pending for the group: after C/R the signal sets are the same, and a SIGCONT runs the group";
const char *test_author = "Stasis developers";

static pid_t child;

static void kill_child(void)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
}

static int ready[2];

static void *idle(void *arg)
{
	if (write(ready[1], "t", 1) != 1)
		_exit(1);
	while (1)
		pause();
	return arg;
}

/* the hex mask of a "Name:" line of /proc/<pid>/task/<tid>/status, or ~0 on error */
static unsigned long long mask_of(pid_t tid, const char *name)
{
	char path[64], line[256];
	unsigned long long m = ~0ULL;
	size_t n = strlen(name);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", child, tid);
	f = fopen(path, "r");
	if (!f)
		return m;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ':')
			m = strtoull(line + n + 1, NULL, 16);
	fclose(f);
	return m;
}

static pid_t second_thread(void)
{
	char path[64];
	struct dirent *de;
	pid_t tid = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", child);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (atoi(de->d_name) > 0 && atoi(de->d_name) != child)
			tid = atoi(de->d_name);
	closedir(d);
	return tid;
}

#define BIT(sig) (1ULL << ((sig) - 1))

int main(int argc, char **argv)
{
	unsigned long long pnd, shd, blk, tblk;
	int status, i;
	pthread_t th;
	pid_t tid, w;
	char c;

	test_init(argc, argv);

	if (pipe(ready)) {
		pr_perror("pipe");
		return 1;
	}
	child = fork();
	if (child < 0) {
		pr_perror("fork");
		return 1;
	}
	if (child == 0) {
		sigset_t set;

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		/* SIGUSR2 blocked in both threads (it stays pending), SIGUSR1 in the leader only */
		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		sigprocmask(SIG_BLOCK, &set, NULL);
		if (pthread_create(&th, NULL, idle, NULL))
			_exit(1);
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		while (1)
			pause();
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1 || read(ready[0], &c, 1) != 1) {
		pr_perror("the child did not start");
		kill_child();
		return 1;
	}
	tid = second_thread();
	if (!tid || kill(child, SIGSTOP)) {
		pr_perror("kill");
		kill_child();
		return 1;
	}
	w = waitpid(child, &status, WUNTRACED);
	if (w != child || !WIFSTOPPED(status)) {
		pr_err("waitpid gave %d status %#x, expected a stop\n", w, status);
		kill_child();
		return 1;
	}
	for (i = 0; i < 500 && (pid_state(child) != 'T' || mask_of(tid, "State") == ~0ULL); i++)
		usleep(10000);
	/* the group is stopped: the second thread's SIGSTOP stays queued to it, SIGUSR2 and another SIGSTOP to
	 * the group */
	if (syscall(SYS_tgkill, child, tid, SIGSTOP) || kill(child, SIGUSR2) || kill(child, SIGSTOP)) {
		pr_perror("tgkill");
		kill_child();
		return 1;
	}
	pnd = mask_of(tid, "SigPnd");
	shd = mask_of(child, "ShdPnd");
	blk = mask_of(child, "SigBlk");
	tblk = mask_of(tid, "SigBlk");
	if (pnd != BIT(SIGSTOP) || shd != (BIT(SIGUSR2) | BIT(SIGSTOP)) || blk != (BIT(SIGUSR1) | BIT(SIGUSR2)) ||
	    tblk != BIT(SIGUSR2)) {
		pr_err("before C/R: thread SigPnd %llx, ShdPnd %llx, leader SigBlk %llx, thread SigBlk %llx\n", pnd, shd,
		       blk, tblk);
		kill_child();
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (pid_state(child) != 'T') {
		fail("the child is in state %c, expected T", pid_state(child));
		kill_child();
		return 1;
	}
	if (mask_of(tid, "SigPnd") != pnd || mask_of(child, "ShdPnd") != shd || mask_of(child, "SigBlk") != blk ||
	    mask_of(tid, "SigBlk") != tblk) {
		fail("signal sets changed: thread SigPnd %llx (was %llx), ShdPnd %llx (was %llx), leader SigBlk %llx "
		     "(was %llx), thread SigBlk %llx (was %llx)", mask_of(tid, "SigPnd"), pnd, mask_of(child, "ShdPnd"),
		     shd, mask_of(child, "SigBlk"), blk, mask_of(tid, "SigBlk"), tblk);
		kill_child();
		return 1;
	}
	/* SIGCONT flushes the queued SIGSTOP (the kernel's rule): the group runs on */
	kill(child, SIGCONT);
	w = waitpid(child, &status, WCONTINUED);
	if (w != child || !WIFCONTINUED(status)) {
		fail("after SIGCONT waitpid gave %d status %#x, expected the child to continue", w, status);
		kill_child();
		return 1;
	}
	for (i = 0; i < 500 && pid_state(child) == 'T'; i++)
		usleep(10000);
	if (pid_state(child) == 'T' || mask_of(tid, "SigPnd") != 0 || mask_of(child, "ShdPnd") != BIT(SIGUSR2)) {
		fail("after SIGCONT: state %c, thread SigPnd %llx, ShdPnd %llx", pid_state(child), mask_of(tid, "SigPnd"),
		     mask_of(child, "ShdPnd"));
		kill_child();
		return 1;
	}
	kill_child();
	pass();
	return 0;
}
