#include "mnt_util.h"

const char *test_doc = "A bind of a directory of the test's tmpfs that was emptied and removed since (mountinfo "
		       "shows its root as \"/gone//deleted\"): the engine cannot make such a bind again (no path "
		       "leads to its source), so the dump must be refused naming the mount, with the tree left "
		       "running and the bind still on the removed directory";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "work directory", 1);

int main(int argc, char **argv)
{
	struct mu_info m;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) || chdir(dirname) || mkdir("t", 0755) || mkdir("b", 0755) ||
	    mount("zdtm_mnt_rmdir00", "t", "tmpfs", 0, NULL) || mkdir("t/gone", 0755) ||
	    mount("t/gone", "b", NULL, MS_BIND, NULL) || mu_put("b/file", "kept", 0644) || unlink("t/gone/file") ||
	    rmdir("t/gone")) {
		pr_perror("prepare the mounts");
		return 1;
	}
	if (mu_info("b", &m) || !strstr(m.root, "deleted")) {
		pr_err("b: root %s\n", m.root);
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (mu_info("b", &m) || !strstr(m.root, "deleted") || access("t/gone", F_OK) == 0) {
		fail("the bind after the refused dump: root %s", m.root);
		return 1;
	}
	pass();
	return 0;
}
