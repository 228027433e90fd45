#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "mnt_util.h"

const char *test_doc = "Mixes of per-mount flags on one tmpfs and its binds: the tmpfs nosuid,nodiratime; a "
		       "bind nodev,noexec; a bind ro,nosuid,noexec,noatime; a bind with none (relatime); after "
		       "C/R statvfs() shows each mount's own flags, a script runs only where exec is allowed, a "
		       "device node opens only where devices are, and writes fail only on the read-only bind";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "work directory", 1);

#define MASK (ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NOATIME | ST_NODIRATIME | ST_RELATIME)

struct m {
	const char *path;
	unsigned long flags; /* MS_* for the bind remount */
	unsigned long st;    /* what statvfs shows */
	int exec, dev, write;
} ms[] = {
	{ "t", MS_NOSUID | MS_NODIRATIME, 0, 1, 1, 1 },
	{ "b1", MS_NODEV | MS_NOEXEC, 0, 0, 0, 1 },
	{ "b2", MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NOATIME, 0, 0, 1, 0 },
	{ "b3", MS_RELATIME, 0, 1, 1, 1 },
};

static int have_dev = 1; /* in a user namespace no device node can be made (nor opened) */

static int flags_of(const char *path, unsigned long *f)
{
	struct statvfs s;

	if (statvfs(path, &s))
		return pr_perror("statvfs %s", path);
	*f = s.f_flag & MASK;
	return 0;
}

static int runs(const char *dir)
{
	char p[PATH_MAX];
	int status;
	pid_t pid;

	ssprintf(p, "%s/script", dir);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execl(p, p, NULL);
		_exit(errno == EACCES ? 42 : 43);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status) == 0 ? 1 : WEXITSTATUS(status) == 42 ? 0 : -1;
}

static int check(void)
{
	unsigned long f;
	char p[PATH_MAX];
	unsigned i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(ms); i++) {
		if (flags_of(ms[i].path, &f))
			return -1;
		if (f != ms[i].st) {
			pr_err("%s: flags %#lx, expected %#lx\n", ms[i].path, f, ms[i].st);
			return -1;
		}
		if (runs(ms[i].path) != ms[i].exec) {
			pr_err("%s: exec is %sallowed\n", ms[i].path, ms[i].exec ? "not " : "");
			return -1;
		}
		ssprintf(p, "%s/null", ms[i].path);
		fd = have_dev ? open(p, O_WRONLY) : -1;
		if (have_dev && ((fd >= 0) != ms[i].dev || (fd < 0 && errno != EACCES))) {
			pr_perror("%s: opening the device node", ms[i].path);
			return -1;
		}
		if (fd >= 0)
			close(fd);
		ssprintf(p, "%s/w", ms[i].path);
		fd = open(p, O_CREAT | O_WRONLY, 0644);
		if ((fd >= 0) != ms[i].write || (fd < 0 && errno != EROFS)) {
			pr_perror("%s: creating a file", ms[i].path);
			return -1;
		}
		if (fd >= 0) {
			close(fd);
			unlink(p);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned i;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) || chdir(dirname) || mkdir("t", 0755) || mkdir("b1", 0755) || mkdir("b2", 0755) ||
	    mkdir("b3", 0755) || mount("zdtm_mnt_flags01", "t", "tmpfs", ms[0].flags, NULL) ||
	    mu_put("t/script", "#!/bin/sh\nexit 0\n", 0755)) {
		pr_perror("prepare the tmpfs");
		return 1;
	}
	if (mknod("t/null", S_IFCHR | 0666, makedev(1, 3))) {
		if (errno != EPERM) {
			pr_perror("mknod");
			return 1;
		}
		have_dev = 0;
	}
	for (i = 1; i < ARRAY_SIZE(ms); i++)
		if (mount("t", ms[i].path, NULL, MS_BIND, NULL) ||
		    mount(NULL, ms[i].path, NULL, MS_BIND | MS_REMOUNT | ms[i].flags, NULL)) {
			pr_perror("bind %s", ms[i].path);
			return 1;
		}
	for (i = 0; i < ARRAY_SIZE(ms); i++)
		if (flags_of(ms[i].path, &ms[i].st))
			return 1;
	if (check())
		return 1;

	test_daemon();
	test_waitsig();

	if (check()) {
		fail("the flags after C/R");
		return 1;
	}
	pass();
	return 0;
}
