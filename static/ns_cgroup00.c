#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A cgroup namespace of the test's own (unshare CLONE_NEWCGROUP after moving into a new "
		       "cgroup-v2 group): after C/R /proc/self/cgroup still shows \"0::/\", the namespace "
		       "(/proc/self/ns/cgroup inode) is the same and the test is still in that group";
const char *test_author = "Stasis developers";

static char cg_root[PATH_MAX];	/* the cgroup2 mount */
static char cg_orig[PATH_MAX];	/* the test's group at the start, relative to the mount */
static char cg_mine[PATH_MAX];	/* the group made for the test, full path */

static int find_cgroup2(void)
{
	char line[4096], mnt[PATH_MAX], fstype[64];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int found = 0;

	if (!f)
		return pr_perror("fopen mountinfo");
	while (!found && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");

		if (!sep || sscanf(sep, " - %63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1) {
			ssprintf(cg_root, "%s", mnt);
			found = 1;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

static int v2_path(char *buf, size_t len)
{
	char line[PATH_MAX + 8];
	FILE *f = fopen("/proc/self/cgroup", "r");
	int found = 0;

	if (!f)
		return pr_perror("fopen /proc/self/cgroup");
	while (!found && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			size_t l;

			line[strcspn(line, "\n")] = 0;
			l = strlen(line + 3);
			if (l >= len)
				break;
			memcpy(buf, line + 3, l + 1);
			found = 1;
		}
	fclose(f);
	return found ? 0 : pr_err("no cgroup-v2 line in /proc/self/cgroup\n");
}

static int ns_ino(const char *path, ino_t *ino)
{
	struct stat st;

	if (stat(path, &st))
		return pr_perror("stat %s", path);
	*ino = st.st_ino;
	return 0;
}

static int move_to(const char *dir, pid_t pid)
{
	char path[PATH_MAX + 32], val[32];

	ssprintf(path, "%s/cgroup.procs", dir);
	ssprintf(val, "%d", pid);
	return write_value(path, val);
}

/* A helper outside the namespace: on a byte from the test, it moves the test back and removes the group */
static pid_t helper;
static int helper_fd = -1;

static int start_helper(pid_t test)
{
	int p[2], r[2];
	char c;

	if (pipe(p) || pipe(r))
		return pr_perror("pipe");
	helper = fork();
	if (helper < 0)
		return pr_perror("fork");
	if (helper == 0) {
		char orig[PATH_MAX * 2 + 2];

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(p[1]);
		/* set up once r's last writer is closed: then its fds stay as they are */
		close(r[0]);
		close(r[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(1);
		ssprintf(orig, "%s%s", cg_root, cg_orig);
		if (move_to(orig, test))
			_exit(2);
		if (rmdir(cg_mine))
			_exit(3);
		_exit(0);
	}
	close(p[0]);
	helper_fd = p[1];
	close(r[1]);
	if (read(r[0], &c, 1) != 0) {
		pr_perror("the helper did not get ready");
		close(r[0]);
		kill(helper, SIGKILL);
		waitpid(helper, NULL, 0);
		helper = 0;
		return 1;
	}
	close(r[0]);
	return 0;
}

static int cleanup(void)
{
	int status = -1;

	if (helper <= 0)
		return 0;
	if (write(helper_fd, "c", 1) != 1 || waitpid(helper, &status, 0) != helper || status) {
		pr_err("the helper did not move the test back and remove %s (status %#x)\n", cg_mine, status);
		kill(helper, SIGKILL);
		waitpid(helper, NULL, 0);
		helper = 0;
		return 1;
	}
	helper = 0;
	return 0;
}

int main(int argc, char **argv)
{
	char cg[PATH_MAX], cg_full[PATH_MAX * 2];
	ino_t outer, mine, now;
	struct stat st_grp, st;
	int ret = 1;

	test_init(argc, argv);

	if (find_cgroup2()) {
		pr_err("no cgroup2 mount\n");
		return 1;
	}
	if (v2_path(cg_orig, sizeof(cg_orig)) || ns_ino("/proc/self/ns/cgroup", &outer))
		return 1;
	ssprintf(cg_mine, "%s%s/zdtm-ns_cgroup00.%d", cg_root, strcmp(cg_orig, "/") ? cg_orig : "", getpid());
	if (mkdir(cg_mine, 0755) || stat(cg_mine, &st_grp)) {
		pr_perror("mkdir %s", cg_mine);
		return 1;
	}
	if (start_helper(getpid()))
		goto out_rmdir;
	if (move_to(cg_mine, getpid()))
		goto out;
	if (v2_path(cg, sizeof(cg)) || !strcmp(cg, "/")) {
		pr_err("the test is in \"%s\" before unsharing its cgroup namespace\n", cg);
		goto out;
	}
	if (unshare(CLONE_NEWCGROUP)) {
		pr_perror("unshare(CLONE_NEWCGROUP)");
		goto out;
	}
	if (ns_ino("/proc/self/ns/cgroup", &mine) || v2_path(cg, sizeof(cg)))
		goto out;
	if (mine == outer || strcmp(cg, "/")) {
		pr_err("after unshare(CLONE_NEWCGROUP): ns %lu (was %lu), cgroup \"%s\"\n", (unsigned long)mine,
		       (unsigned long)outer, cg);
		goto out;
	}

	test_daemon();
	test_waitsig();

	if (ns_ino("/proc/self/ns/cgroup", &now))
		goto out;
	if (now != mine) {
		errno = 0;
		fail("the cgroup namespace is %lu after C/R, was %lu (now in %s)", (unsigned long)now, (unsigned long)mine,
		     now == outer ? "the outer one" : "yet another one");
		goto out;
	}
	if (v2_path(cg, sizeof(cg)))
		goto out;
	if (strcmp(cg, "/")) {
		errno = 0;
		fail("/proc/self/cgroup shows \"0::%s\" after C/R, expected \"0::/\"", cg);
		goto out;
	}
	/* and the group is the one made for the test (the mount shows the whole tree) */
	ssprintf(cg_full, "%s/cgroup.procs", cg_mine);
	{
		char procs[256], me[32];

		ssprintf(me, "%d\n", getpid());
		if (stat(cg_mine, &st) || st.st_ino != st_grp.st_ino || read_value(cg_full, procs, sizeof(procs)) ||
		    strcmp(procs, me)) {
			fail("the test is not (alone) in %s after C/R", cg_mine);
			goto out;
		}
	}
	ret = 0;
out:
	if (cleanup())
		ret = 1;
	else if (!ret)
		pass();
	return ret;
out_rmdir:
	rmdir(cg_mine);
	return 1;
}
