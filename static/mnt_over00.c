#include "mnt_util.h"

const char *test_doc = "Mounts stacked on one directory: a tmpfs with a file and a directory, over-mounted by a "
		       "second tmpfs with a file of its own, over-mounted in turn by a read-only third: after C/R "
		       "the top one shows, and unmounting one by one reveals each lower tmpfs with its own files "
		       "and mode";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "mount point", 1);

int main(int argc, char **argv)
{
	char a[PATH_MAX], b[PATH_MAX], c[PATH_MAX];
	struct stat st;

	test_init(argc, argv);

	ssprintf(a, "%s/lower", dirname);
	ssprintf(b, "%s/middle", dirname);
	ssprintf(c, "%s/top", dirname);
	if (mkdir(dirname, 0755) || mount("zdtm_mnt_over00_1", dirname, "tmpfs", 0, "mode=0711") ||
	    mu_put(a, "lower", 0644) || mount("zdtm_mnt_over00_2", dirname, "tmpfs", 0, "mode=0755") ||
	    mu_put(b, "middle", 0600) || mount("zdtm_mnt_over00_3", dirname, "tmpfs", 0, "mode=0750") ||
	    mu_put(c, "top", 0640) || mount(NULL, dirname, NULL, MS_REMOUNT | MS_RDONLY, NULL)) {
		pr_perror("prepare the mounts");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (mu_get(c, "top") || access(b, F_OK) == 0 || access(a, F_OK) == 0 || stat(dirname, &st) ||
	    (st.st_mode & 07777) != 0750) {
		fail("the top tmpfs after C/R");
		return 1;
	}
	if (umount(dirname) || mu_get(b, "middle") || access(a, F_OK) == 0 || stat(dirname, &st) ||
	    (st.st_mode & 07777) != 0755) {
		fail("the middle tmpfs after C/R");
		return 1;
	}
	if (umount(dirname) || mu_get(a, "lower") || access(b, F_OK) == 0 || stat(dirname, &st) ||
	    (st.st_mode & 07777) != 0711) {
		fail("the lower tmpfs after C/R");
		return 1;
	}
	pass();
	return 0;
}
