#include "mnt_util.h"

const char *test_doc = "Binds of what the namespace's root shows from outside (the read-only host directories "
		       "of the flavor's root): /etc/passwd bound over a file of a tmpfs the test mounts, /usr/share "
		       "bound on a directory of it read-only and nosuid, and a bind of the root's own /run tmpfs: "
		       "after C/R each bind is the same file or directory (device and inode) as its source, with "
		       "its flags, and the covered file shows its own content after umount";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "work directory", 1);

static int check(void)
{
	struct mu_info m;

	if (mu_same("t/passwd", "/etc/passwd") || mu_same("t/share", "/usr/share") || mu_same("t/run", "/run") ||
	    mu_info("t/share", &m) || !mu_has_opt(m.opts, "ro") || !mu_has_opt(m.opts, "nosuid") ||
	    mu_get("t/run/zdtm_mnt_bind_host00", "in /run")) {
		pr_err("the binds\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);

	if (mkdir(dirname, 0755) || chdir(dirname) || mkdir("t", 0755) ||
	    mount("zdtm_mnt_bind_host00", "t", "tmpfs", 0, NULL) || mu_put("t/passwd", "covered", 0644) ||
	    mkdir("t/share", 0755) || mkdir("t/run", 0755) || mu_put("/run/zdtm_mnt_bind_host00", "in /run", 0644) ||
	    mount("/etc/passwd", "t/passwd", NULL, MS_BIND, NULL) || mount("/usr/share", "t/share", NULL, MS_BIND, NULL) ||
	    mount(NULL, "t/share", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID, NULL) ||
	    mount("/run", "t/run", NULL, MS_BIND, NULL)) {
		pr_perror("prepare the mounts");
		return 1;
	}
	if (check())
		return 1;

	test_daemon();
	test_waitsig();

	if (check()) {
		fail("the binds after C/R");
		return 1;
	}
	if (umount("t/passwd") || mu_get("t/passwd", "covered")) {
		fail("the covered file after C/R");
		return 1;
	}
	unlink("/run/zdtm_mnt_bind_host00");
	pass();
	return 0;
}
