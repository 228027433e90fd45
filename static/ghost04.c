#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A child whose cwd was removed: the dump must refuse it (a deleted cwd cannot be made "
		       "again) and leave both processes running as they were";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "directory", 1);

int main(int argc, char **argv)
{
	int ready[2], ctl[2], status;
	pid_t kid;
	char c;

	test_init(argc, argv);

	if (mkdir(dirname, 0700) || pipe(ready) || pipe(ctl))
		return pr_perror("mkdir %s", dirname);
	kid = fork();
	if (kid < 0)
		return pr_perror("fork");
	if (kid == 0) {
		struct stat st;

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (chdir(dirname) || write(ready[1], "r", 1) != 1 || read(ctl[0], &c, 1) != 1)
			_exit(2);
		if (stat(".", &st) || st.st_nlink != 0)
			_exit(3);
		_exit(0);
	}
	if (read(ready[0], &c, 1) != 1 || rmdir(dirname))
		return pr_perror("rmdir %s", dirname);

	test_daemon();
	test_waitsig();

	if (write(ctl[1], "g", 1) != 1 || waitpid(kid, &status, 0) != kid)
		return pr_perror("child");
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child's cwd changed (status %#x)", status);
		return 1;
	}
	pass();
	return 0;
}
