#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "zdtmtst.h"
#include "cgroup_util.h"

const char *test_doc = "A child of the test makes a cgroup namespace of its own in cgroup v2 group A, then the test "
		       "moves it into a sibling group B, outside its namespace's root (it reads \"0::/../B\"): the "
		       "engine could not make that namespace again and must refuse the dump, leaving both running";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	char mnt[PATH_MAX], rel_a[PATH_MAX], a[PATH_MAX], rel_b[PATH_MAX], b[PATH_MAX], orig[PATH_MAX];
	char back[PATH_MAX * 2], now[PATH_MAX], file[64];
	int ready[2], go[2], status, ret = 1;
	pid_t pid;
	char c;

	test_init(argc, argv);

	if (cg_path("", orig, sizeof(orig)) ||
	    cg_make("", "ns_cgroup01a", "cgroups.cleanup", mnt, rel_a, a, PATH_MAX) ||
	    cg_make("", "ns_cgroup01b", "cgroups.cleanup", mnt, rel_b, b, PATH_MAX)) {
		pr_err("cannot make the cgroup v2 groups\n");
		return 1;
	}
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
		if (cg_move(a, getpid()) || unshare(CLONE_NEWCGROUP))
			_exit(2);
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		if (read(go[0], &c, 1) != 1)
			_exit(4);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &c, 1) != 1) {
		pr_err("the child did not make its cgroup namespace\n");
		goto out;
	}
	snprintf(file, sizeof(file), "/proc/%d/cgroup", pid);
	if (cg_move(b, pid) || cg_path_of(file, "", now, sizeof(now)) || strcmp(now, rel_b)) {
		pr_perror("move the child into %s (it is in '%s')", b, now);
		goto out;
	}

	test_daemon();
	test_waitsig();

	if (cg_path_of(file, "", now, sizeof(now)) || strcmp(now, rel_b)) {
		fail("the child is in '%s', expected %s", now, rel_b);
		goto out;
	}
	ret = 0;
out:
	if (write(go[1], "g", 1) != 1)
		kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child failed (status %#x)", status);
		ret = 1;
	}
	if (snprintf(back, sizeof(back), "%s%s", mnt, orig) < (int)sizeof(back))
		cg_move(back, getpid());
	if (rmdir(b) || rmdir(a))
		pr_perror("rmdir %s, %s", b, a);
	if (!ret)
		pass();
	return ret;
}
