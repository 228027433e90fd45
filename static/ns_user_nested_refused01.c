#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "zdtmtst.h"
#include "ns_user.h"

const char *test_doc = "The init of a pid namespace nested in the test's makes a user namespace of its own "
		       "(mapped by the test): a process of a nested user namespace in a nested pid namespace is "
		       "not restored yet, so the dump must be refused with the tree left running; afterwards the "
		       "child is still pid 1 there and root of its user namespace";
const char *test_author = "Stasis developers";

static int ready[2], go[2], mapped[2];

int main(int argc, char **argv)
{
	char c;
	pid_t pid;
	int st;

	test_init(argc, argv);

	if (pipe(ready) || pipe(go) || pipe(mapped) || unshare(CLONE_NEWPID)) {
		pr_perror("pipe/unshare(CLONE_NEWPID)");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		if (unshare(CLONE_NEWUSER) || write(ready[1], "u", 1) != 1 || read(mapped[0], &c, 1) != 1 ||
		    write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(getuid() == 0 && getpid() == 1 ? 0 : 2);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1)
		return 1;
	if (ns_map_to_root(pid) || write(mapped[1], "m", 1) != 1 || read(ready[0], &c, 1) != 1) {
		pr_err("the child could not make its namespaces\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (write(go[1], "g", 1) != 1 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fail("the child is not in its namespaces as before (status %#x)", st);
		return 1;
	}
	pass();
	return 0;
}
