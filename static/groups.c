#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "Supplementary groups: the test (root: desc flag suid) sets its own list and a child sets "
		       "another one: after C/R getgroups gives each its own list";
const char *test_author = "Stasis developers";

/* sorted: the kernel keeps the list sorted */
static const gid_t mine[] = { 7, 1001, 1002, 50000 };
static const gid_t kids[] = { 3, 60000 };

static int same(const gid_t *want, int n, const char *who)
{
	gid_t got[64];
	int m = getgroups(64, got), i;

	if (m != n) {
		fail("%s: %d groups, expected %d", who, m, n);
		return 1;
	}
	for (i = 0; i < n; i++)
		if (got[i] != want[i]) {
			fail("%s: group %d is %u, expected %u", who, i, got[i], want[i]);
			return 1;
		}
	return 0;
}

int main(int argc, char **argv)
{
	int go[2], ready[2], status;
	pid_t pid;
	char c;

	test_init(argc, argv);

	if (setgroups(ARRAY_SIZE(mine), mine) || pipe(go) || pipe(ready)) {
		pr_perror("setgroups (the desc's suid flag runs the test as root)");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(go[1]);
		close(ready[0]);
		if (setgroups(ARRAY_SIZE(kids), kids) || write(ready[1], "r", 1) != 1)
			_exit(2);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		_exit(same(kids, ARRAY_SIZE(kids), "child") ? 4 : 0);
	}
	close(go[0]);
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		pr_err("the child did not set its groups\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (same(mine, ARRAY_SIZE(mine), "parent")) {
		kill(pid, SIGKILL);
		return 1;
	}
	if (write(go[1], "g", 1) != 1 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child's groups: %#x", status);
		return 1;
	}
	pass();
	return 0;
}
