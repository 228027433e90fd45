#include "mnt_util.h"

const char *test_doc = "Mounts that propagated before the dump: A shared with a peer P and a slave S; a tmpfs "
		       "mounted on A/x (so copies of it are on P/x and S/x), a tmpfs mounted on S/y only: after "
		       "C/R A/x and P/x are one shared group, S/x a slave of it, they show the same files, a mount "
		       "under A/x reaches P/x and S/x, a mount under S/x stays there, and S/y is only in S";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "work directory", 1);

static int shape(void)
{
	int g = mu_tag("A/x", "shared");

	if (g <= 0 || mu_tag("P/x", "shared") != g || mu_tag("S/x", "master") != g || mu_tag("S/x", "shared")) {
		pr_err("the copies of x are not peers and slave (group %d)\n", g);
		return -1;
	}
	if (mu_same("A/x/f", "P/x/f") || mu_same("A/x/f", "S/x/f") || mu_get("S/x/f", "x") ||
	    mu_expect("S/y", 1) || mu_expect("A/y", 0) || mu_expect("P/y", 0) || mu_get("S/y/f", "y")) {
		pr_err("the propagated mounts\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);

	if (mkdir(dirname, 0755) || chdir(dirname) || mkdir("A", 0755) || mkdir("P", 0755) || mkdir("S", 0755) ||
	    mount("zdtm_mnt_propagated00", "A", "tmpfs", 0, NULL) || mkdir("A/x", 0755) || mkdir("A/y", 0755) ||
	    mount(NULL, "A", NULL, MS_SHARED, NULL) || mount("A", "P", NULL, MS_BIND, NULL) ||
	    mount("A", "S", NULL, MS_BIND, NULL) || mount(NULL, "S", NULL, MS_SLAVE, NULL) ||
	    mount("zdtm_mnt_propagated00_x", "A/x", "tmpfs", 0, NULL) || mkdir("A/x/in", 0755) ||
	    mkdir("A/x/own", 0755) || mu_put("A/x/f", "x", 0644) ||
	    mount("zdtm_mnt_propagated00_y", "S/y", "tmpfs", 0, NULL) || mu_put("S/y/f", "y", 0644)) {
		pr_perror("prepare the mounts");
		return 1;
	}
	if (shape())
		return 1;

	test_daemon();
	test_waitsig();

	if (shape()) {
		fail("the propagated mounts after C/R");
		return 1;
	}
	if (mount("zdtm_mnt_propagated00_in", "A/x/in", "tmpfs", 0, NULL) || mu_expect("P/x/in", 1) ||
	    mu_expect("S/x/in", 1) || mount("zdtm_mnt_propagated00_own", "S/x/own", "tmpfs", 0, NULL) ||
	    mu_expect("A/x/own", 0) || mu_expect("P/x/own", 0)) {
		fail("propagation under x after C/R");
		return 1;
	}
	pass();
	return 0;
}
