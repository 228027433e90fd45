#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A child of the test in a cgroup namespace of its own (unshare CLONE_NEWCGROUP), the test in "
		       "its parent's: after C/R the child is still in a cgroup namespace other than the test's, and "
		       "its /proc/self/cgroup reads as before (\"/\" everywhere)";
const char *test_author = "Stasis developers";

static int read_all(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
	return 0;
}

static int child(int ready, int go)
{
	char before[8192], after[8192], c;
	struct stat outer, mine, parent;

	if (stat("/proc/self/ns/cgroup", &outer) || unshare(CLONE_NEWCGROUP) ||
	    stat("/proc/self/ns/cgroup", &mine) || mine.st_ino == outer.st_ino)
		return 2;
	if (read_all("/proc/self/cgroup", before, sizeof(before)))
		return 3;
	if (write(ready, "r", 1) != 1)
		return 4;
	if (read(go, &c, 1) != 1)
		return 5;
	if (read_all("/proc/self/cgroup", after, sizeof(after)) || strcmp(before, after))
		return 6;
	if (stat("/proc/self/ns/cgroup", &mine) || stat("/proc/self/../self/ns/cgroup", &outer))
		return 7;
	{
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/ns/cgroup", getppid());
		if (stat(path, &parent) || parent.st_ino == mine.st_ino)
			return 8;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct stat mine, theirs;
	int ready[2], go[2], status;
	char path[64], c;
	pid_t pid;

	test_init(argc, argv);

	if (pipe(ready) || pipe(go)) {
		pr_perror("pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		_exit(child(ready[1], go[0]));
	}
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &c, 1) != 1) {
		pr_err("the child did not make its cgroup namespace\n");
		waitpid(pid, NULL, 0);
		return 1;
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/cgroup", pid);
	if (stat(path, &theirs) || stat("/proc/self/ns/cgroup", &mine) || theirs.st_ino == mine.st_ino) {
		pr_err("the child is not in a cgroup namespace of its own\n");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (write(go[1], "g", 1) != 1 || waitpid(pid, &status, 0) != pid) {
		fail("the child is gone");
		return 1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child failed its checks (status %#x)", status);
		return 1;
	}
	pass();
	return 0;
}
