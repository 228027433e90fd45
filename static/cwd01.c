#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "The working directories of a parent and two children, each in its own subdirectory of "
		       "the test's directory (one of them a relative chain of chdirs): after C/R getcwd and "
		       "relative opens give each its own";
const char *test_author = "Stasis developers";

char *dirname;
TEST_OPTION(dirname, string, "directory name", 1);

#define NR 2

static int check_cwd(const char *want, const char *marker)
{
	char buf[4096];
	int fd;

	if (!getcwd(buf, sizeof(buf)) || strcmp(buf, want))
		return 1;
	fd = open(marker, O_RDONLY);
	if (fd < 0)
		return 2;
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	char base[4096], dirs[NR + 1][8192 + 64], marker[64];
	int go[2], ready[2], status, i, ret;
	pid_t kids[NR];
	char c;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) || !getcwd(base, sizeof(base)) || pipe(go) || pipe(ready)) {
		pr_perror("mkdir %s", dirname);
		return 1;
	}
	for (i = 0; i <= NR; i++) {
		int fd;

		snprintf(dirs[i], sizeof(dirs[i]), "%s/%s/sub%d", base, dirname, i);
		snprintf(marker, sizeof(marker), "marker%d", i);
		if (mkdir(dirs[i], 0755) || chdir(dirs[i]) || (fd = open(marker, O_CREAT | O_WRONLY, 0644)) < 0 ||
		    chdir(base)) {
			pr_perror("subdir %d", i);
			return 1;
		}
		close(fd);
	}
	for (i = 0; i < NR; i++) {
		kids[i] = fork();
		if (kids[i] < 0) {
			pr_perror("fork");
			return 1;
		}
		if (kids[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
			close(go[1]);
			close(ready[0]);
			/* child 1 gets there by relative steps */
			if (i == 1 ? chdir(dirname) || chdir("sub0") || chdir("../sub1") : chdir(dirs[i]))
				_exit(5);
			if (write(ready[1], "r", 1) != 1)
				_exit(6);
			close(ready[1]);
			if (read(go[0], &c, 1) < 0) /* EOF: the parent closed it after C/R */
				_exit(7);
			snprintf(marker, sizeof(marker), "marker%d", i);
			_exit(check_cwd(dirs[i], marker));
		}
	}
	close(go[0]);
	close(ready[1]);
	for (i = 0; i < NR; i++)
		if (read(ready[0], &c, 1) != 1) {
			pr_err("a child did not start\n");
			return 1;
		}
	close(ready[0]);
	if (chdir(dirs[NR])) {
		pr_perror("chdir");
		return 1;
	}

	test_daemon();
	test_waitsig();

	snprintf(marker, sizeof(marker), "marker%d", NR);
	ret = check_cwd(dirs[NR], marker);
	if (ret) {
		fail("the parent's cwd after C/R (%s)", ret == 1 ? "getcwd" : "relative open");
		return 1;
	}
	close(go[1]);
	for (i = 0; i < NR; i++) {
		if (waitpid(kids[i], &status, 0) != kids[i] || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fail("child %d: %#x (1 getcwd, 2 relative open)", i, status);
			return 1;
		}
	}
	pass();
	return 0;
}
