#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A child in a pid namespace nested in the test's (unshare(CLONE_NEWPID), then fork: "
		       "the child is pid 1 there): nested pid namespaces are not restored yet, so the dump must be "
		       "refused with the tree left running; afterwards the child is still pid 1 of its namespace";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	int p[2], q[2], status;
	pid_t pid, inner = 0;
	char c = 0;

	test_init(argc, argv);

	if (pipe(p) || pipe(q) || unshare(CLONE_NEWPID)) {
		pr_perror("pipe/unshare(CLONE_NEWPID)");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		inner = getpid();
		if (write(p[1], &inner, sizeof(inner)) != sizeof(inner) || read(q[0], &c, 1) != 1)
			_exit(1);
		_exit(getpid() == 1 ? 0 : 2);
	}
	if (read(p[0], &inner, sizeof(inner)) != sizeof(inner) || inner != 1) {
		pr_err("the child is pid %d in its namespace, not 1\n", inner);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (write(q[1], &c, 1) != 1 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fail("the child in the nested pid namespace (status %#x)", status);
		return 1;
	}
	pass();
	return 0;
}
