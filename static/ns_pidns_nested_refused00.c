#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "The test unshares CLONE_NEWPID and forks nobody yet: a pid namespace no process is "
		       "in cannot be made again (it is restored with its init), so the dump must be refused "
		       "with the tree left running; afterwards its first child is pid 1 there";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	struct stat own;
	int status;
	pid_t pid;

	test_init(argc, argv);

	if (unshare(CLONE_NEWPID)) {
		pr_perror("unshare(CLONE_NEWPID)");
		return 1;
	}
	/* without its init the namespace does not show: the link is listed but cannot be followed */
	if (!stat("/proc/self/ns/pid_for_children", &own) || errno != ENOENT) {
		pr_err("pid_for_children can be followed before the namespace has an init\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (!stat("/proc/self/ns/pid_for_children", &own) || errno != ENOENT) {
		fail("pid_for_children changed: it is not a namespace without its init any more");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0)
		_exit(getpid() == 1 ? 0 : 2);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the first child of the namespace is not its pid 1 (status %#x)", status);
		return 1;
	}
	pass();
	return 0;
}
