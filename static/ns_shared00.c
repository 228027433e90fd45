#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "The test and its child share every namespace (they live in the flavor's): after C/R "
		       "each of /proc/self/ns/{cgroup,ipc,mnt,net,pid,time,user,uts} of the child is the test's, "
		       "as before";
const char *test_author = "Stasis developers";

static const char *kinds[] = { "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time",
			       "time_for_children", "user", "uts" };
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static int inodes(pid_t pid, ino_t *out)
{
	char path[64];
	struct stat st;
	unsigned i;

	for (i = 0; i < NKINDS; i++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, kinds[i]);
		if (stat(path, &st))
			return pr_perror("stat %s", path);
		out[i] = st.st_ino;
	}
	return 0;
}

int main(int argc, char **argv)
{
	ino_t mine[NKINDS], theirs[NKINDS];
	unsigned i;
	pid_t pid;

	test_init(argc, argv);

	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		pause();
		_exit(0);
	}
	if (inodes(getpid(), mine) || inodes(pid, theirs) || memcmp(mine, theirs, sizeof(mine))) {
		pr_err("the child is not in the test's namespaces before C/R\n");
		goto kill;
	}

	test_daemon();
	test_waitsig();

	if (inodes(getpid(), mine) || inodes(pid, theirs)) {
		fail("namespaces after C/R");
		goto kill;
	}
	for (i = 0; i < NKINDS; i++)
		if (mine[i] != theirs[i]) {
			errno = 0;
			fail("after C/R the child's %s namespace is %lu, the test's %lu", kinds[i],
			     (unsigned long)theirs[i], (unsigned long)mine[i]);
			goto kill;
		}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	pass();
	return 0;
kill:
	kill(pid, SIGKILL);
	return 1;
}
