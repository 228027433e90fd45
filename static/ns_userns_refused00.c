#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A child of the test in a user namespace of its own (unshare(CLONE_NEWUSER)) whose maps "
		       "nobody wrote: its processes have no ids there yet, so the dump must be refused with the "
		       "tree left running; afterwards the child is still in a user namespace other than the test's";
const char *test_author = "Stasis developers";

static ino_t ns_of(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	return stat(path, &st) ? 0 : st.st_ino;
}

int main(int argc, char **argv)
{
	int p[2], q[2], status;
	char c = 0;
	pid_t pid;

	test_init(argc, argv);

	if (pipe(p) || pipe(q)) {
		pr_perror("pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		if (unshare(CLONE_NEWUSER) || write(p[1], &c, 1) != 1 || read(q[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	if (read(p[0], &c, 1) != 1) {
		pr_perror("the child did not make its user namespace");
		return 1;
	}
	if (!ns_of(pid) || ns_of(pid) == ns_of(getpid())) {
		pr_err("the child is not in a user namespace of its own\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (!ns_of(pid) || ns_of(pid) == ns_of(getpid())) {
		fail("the child is not in a user namespace of its own any more");
		return 1;
	}
	if (write(q[1], &c, 1) != 1 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fail("the child (status %#x)", status);
		return 1;
	}
	pass();
	return 0;
}
