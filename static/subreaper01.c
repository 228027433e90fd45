#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A child subreaper root with orphaned grandchildren reparented to it: after C/R they are "
		       "still its children, it can wait for them, and it still adopts new orphans";
const char *test_author = "Stasis developers";

#ifndef PR_GET_CHILD_SUBREAPER
#define PR_GET_CHILD_SUBREAPER 37
#endif

#define NR_ORPHANS 3

/*
 * root -> middle -> orphan[i]; middle exits, the orphans move to the root.  Each orphan waits for a byte
 * on its pipe, checks getppid() and exits with 20 + i (or 1 if its parent is wrong).
 */
static pid_t orphans[NR_ORPHANS];
static int cmd[NR_ORPHANS][2];
static int rep[2]; /* orphans -> root: their pids */

static void orphan(int i, pid_t root)
{
	char c;

	if (read(cmd[i][0], &c, 1) != 1)
		_exit(100); /* the root is gone */
	if (c == 'q')
		_exit(101);
	_exit(getppid() == root ? 20 + i : 1);
}

static void kill_orphans(void)
{
	int i;

	for (i = 0; i < NR_ORPHANS; i++)
		if (orphans[i] > 0)
			kill(orphans[i], SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
}

int main(int argc, char **argv)
{
	pid_t root = getpid(), middle, pid;
	int i, v = -1, status;

	test_init(argc, argv);
	root = getpid();

	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) {
		pr_perror("PR_SET_CHILD_SUBREAPER");
		return 1;
	}
	if (pipe(rep)) {
		pr_perror("pipe");
		return 1;
	}
	for (i = 0; i < NR_ORPHANS; i++)
		if (pipe(cmd[i])) {
			pr_perror("pipe");
			return 1;
		}

	middle = fork();
	if (middle < 0) {
		pr_perror("fork");
		return 1;
	}
	if (middle == 0) {
		for (i = 0; i < NR_ORPHANS; i++) {
			pid = fork();
			if (pid < 0)
				_exit(1);
			if (pid == 0) {
				int j, msg[2] = { i, getpid() };

				for (j = 0; j < NR_ORPHANS; j++)
					close(cmd[j][1]);
				/* reported once its fds are as they stay: then the root may say it is ready */
				if (write(rep[1], msg, sizeof(msg)) != sizeof(msg))
					_exit(1);
				orphan(i, root);
			}
		}
		_exit(0);
	}
	for (i = 0; i < NR_ORPHANS; i++)
		close(cmd[i][0]);
	for (i = 0; i < NR_ORPHANS; i++) {
		int msg[2];

		if (read(rep[0], msg, sizeof(msg)) != sizeof(msg) || msg[0] < 0 || msg[0] >= NR_ORPHANS) {
			pr_perror("no pid of orphan %d", i);
			kill_orphans();
			return 1;
		}
		orphans[msg[0]] = msg[1];
	}
	if (waitpid(middle, &status, 0) != middle || !WIFEXITED(status) || WEXITSTATUS(status)) {
		pr_err("middle process status %#x\n", status);
		kill_orphans();
		return 1;
	}
	/* The reparenting is done by the time the middle's exit is reported */
	for (i = 0; i < NR_ORPHANS; i++) {
		char path[64], buf[256], *p;
		int ppid = -1;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/stat", orphans[i]);
		f = fopen(path, "r");
		if (!f || !fgets(buf, sizeof(buf), f) || !(p = strrchr(buf, ')')) ||
		    sscanf(p + 2, "%*c %d", &ppid) != 1 || ppid != root) {
			pr_err("orphan %d has parent %d, expected %d\n", orphans[i], ppid, root);
			kill_orphans();
			return 1;
		}
		fclose(f);
	}

	test_daemon();
	test_waitsig();

	if (prctl(PR_GET_CHILD_SUBREAPER, (unsigned long)&v, 0, 0, 0) || v != 1) {
		fail("PR_GET_CHILD_SUBREAPER is %d, expected 1", v);
		kill_orphans();
		return 1;
	}
	for (i = 0; i < NR_ORPHANS; i++) {
		if (waitpid(orphans[i], &status, WNOHANG) != 0) {
			fail("orphan %d is not a running child of the root after C/R (status %#x)", orphans[i], status);
			kill_orphans();
			return 1;
		}
	}
	for (i = 0; i < NR_ORPHANS; i++) {
		if (write(cmd[i][1], "g", 1) != 1) {
			fail("write to orphan %d", orphans[i]);
			kill_orphans();
			return 1;
		}
		pid = waitpid(orphans[i], &status, 0);
		if (pid != orphans[i] || !WIFEXITED(status) || WEXITSTATUS(status) != 20 + i) {
			fail("orphan %d: waitpid %d status %#x, expected exit code %d (1: wrong parent)", orphans[i],
			     pid, status, 20 + i);
			kill_orphans();
			return 1;
		}
		orphans[i] = 0;
	}

	/* The attribute still works: a new orphan comes to the root */
	middle = fork();
	if (middle == 0) {
		pid = fork();
		if (pid == 0) {
			usleep(100000);
			_exit(getppid() == root ? 33 : 1);
		}
		_exit(pid > 0 ? 0 : 1);
	}
	if (middle < 0 || waitpid(middle, &status, 0) != middle || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("new middle process: status %#x", status);
		kill_orphans();
		return 1;
	}
	pid = waitpid(-1, &status, 0);
	if (pid <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 33) {
		fail("the new orphan: waitpid %d status %#x, expected exit code 33", pid, status);
		return 1;
	}

	pass();
	return 0;
}
