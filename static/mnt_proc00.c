#include <sys/statfs.h>

#include "mnt_util.h"

const char *test_doc = "A proc the test mounts with hidepid=invisible and subset=pid, and a sysfs: after C/R "
		       "mountinfo shows the same proc options, that proc lists the test's own pid (in its pid "
		       "namespace) but no /proc/sys (subset=pid), and the sysfs is a sysfs (SYSFS_MAGIC) with "
		       "its kernel directory";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "work directory", 1);

#define SYSFS_MAGIC 0x62656572
#define PROC_SUPER_MAGIC 0x9fa0

static int check(void)
{
	struct statfs sf;
	struct mu_info mi;
	char p[PATH_MAX];

	if (mu_info("proc", &mi) || strcmp(mi.fstype, "proc") || !mu_has_opt(mi.super, "hidepid=invisible") ||
	    !mu_has_opt(mi.super, "subset=pid")) {
		pr_err("proc: %s %s\n", mi.fstype, mi.super);
		return -1;
	}
	if (statfs("proc", &sf) || sf.f_type != PROC_SUPER_MAGIC)
		return pr_perror("proc is not a proc"), -1;
	ssprintf(p, "proc/%d/status", getpid());
	if (access(p, R_OK) || access("proc/sys", F_OK) == 0) {
		pr_perror("%s / proc/sys", p);
		return -1;
	}
	if (statfs("sys", &sf) || sf.f_type != SYSFS_MAGIC || access("sys/kernel", F_OK) ||
	    mu_info("sys", &mi) || strcmp(mi.fstype, "sysfs") || !mu_has_opt(mi.opts, "nosuid")) {
		pr_perror("sys: %lx %s %s", (long)sf.f_type, mi.fstype, mi.opts);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);

	if (mkdir(dirname, 0755) || chdir(dirname) || mkdir("proc", 0755) || mkdir("sys", 0755) ||
	    mount("proc", "proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, "hidepid=invisible,subset=pid") ||
	    mount("sysfs", "sys", "sysfs", MS_NOSUID | MS_NODEV, NULL)) {
		pr_perror("mount proc/sysfs");
		return 1;
	}
	if (check())
		return 1;

	test_daemon();
	test_waitsig();

	if (check()) {
		fail("proc and sysfs after C/R");
		return 1;
	}
	pass();
	return 0;
}
