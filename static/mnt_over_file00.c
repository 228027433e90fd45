#include "mnt_util.h"

const char *test_doc = "Mounts over files: a file of tmpfs B bound over a file of tmpfs A, and a file of A bound "
		       "over another file of A: after C/R each covered path shows its bind's content and inode, a "
		       "write through one is read through its source, and after umount the covered files show "
		       "their own content again";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "work directory", 1);

int main(int argc, char **argv)
{
	test_init(argc, argv);

	if (mkdir(dirname, 0755) || chdir(dirname) || mkdir("A", 0755) || mkdir("B", 0755) ||
	    mount("zdtm_mnt_over_file00_a", "A", "tmpfs", 0, NULL) ||
	    mount("zdtm_mnt_over_file00_b", "B", "tmpfs", 0, NULL) || mu_put("A/under1", "under one", 0644) ||
	    mu_put("A/under2", "under two", 0600) || mu_put("A/src", "source in A", 0644) ||
	    mu_put("B/src", "source in B", 0640) || mount("B/src", "A/under1", NULL, MS_BIND, NULL) ||
	    mount("A/src", "A/under2", NULL, MS_BIND, NULL)) {
		pr_perror("prepare the mounts");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (mu_same("A/under1", "B/src") || mu_same("A/under2", "A/src") || mu_get("A/under1", "source in B") ||
	    mu_get("A/under2", "source in A")) {
		fail("the binds over files after C/R");
		return 1;
	}
	if (mu_put("A/under1", "new B", 0644) || mu_get("B/src", "new B") || mu_put("A/under2", "new A", 0644) ||
	    mu_get("A/src", "new A")) {
		fail("a write through a bind after C/R");
		return 1;
	}
	if (umount("A/under1") || umount("A/under2") || mu_get("A/under1", "under one") ||
	    mu_get("A/under2", "under two")) {
		fail("the covered files after C/R");
		return 1;
	}
	pass();
	return 0;
}
