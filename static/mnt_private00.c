#include "mnt_util.h"

const char *test_doc = "Private mounts next to shared ones: a shared tmpfs S with a bind P of it made private, "
		       "and a private tmpfs Q with a bind R of it (private binds are no peers): after C/R "
		       "mountinfo shows no shared or master tag on P, Q, R, and nothing mounted under S reaches P, "
		       "under P reaches S, under Q reaches R, while P and S and Q and R still show the same files";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "work directory", 1);

static int tags_ok(void)
{
	const char *priv[] = { "P", "Q", "R" };
	int i;

	if (mu_tag("S", "shared") <= 0) {
		pr_err("S is not shared\n");
		return -1;
	}
	for (i = 0; i < 3; i++)
		if (mu_tag(priv[i], "shared") || mu_tag(priv[i], "master")) {
			pr_err("%s is not private\n", priv[i]);
			return -1;
		}
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);

	if (mkdir(dirname, 0755) || chdir(dirname) || mkdir("S", 0755) || mkdir("P", 0755) || mkdir("Q", 0755) ||
	    mkdir("R", 0755) || mount("zdtm_mnt_private00_s", "S", "tmpfs", 0, NULL) || mkdir("S/1", 0755) ||
	    mkdir("S/2", 0755) || mu_put("S/file", "s", 0644) || mount(NULL, "S", NULL, MS_SHARED, NULL) ||
	    mount("S", "P", NULL, MS_BIND, NULL) || mount(NULL, "P", NULL, MS_PRIVATE, NULL) ||
	    mount("zdtm_mnt_private00_q", "Q", "tmpfs", 0, NULL) || mount(NULL, "Q", NULL, MS_PRIVATE, NULL) ||
	    mkdir("Q/1", 0755) || mu_put("Q/file", "q", 0644) || mount("Q", "R", NULL, MS_BIND, NULL)) {
		pr_perror("prepare the mounts");
		return 1;
	}
	if (tags_ok())
		return 1;

	test_daemon();
	test_waitsig();

	if (tags_ok()) {
		fail("propagation types after C/R");
		return 1;
	}
	if (mu_get("P/file", "s") || mu_get("R/file", "q") || mu_put("P/new", "p", 0644) || mu_get("S/new", "p") ||
	    mu_put("R/new", "r", 0644) || mu_get("Q/new", "r")) {
		fail("the binds do not show their sources' files after C/R");
		return 1;
	}
	if (mount("zdtm_mnt_private00_1", "S/1", "tmpfs", 0, NULL) || mu_expect("S/1", 1) || mu_expect("P/1", 0) ||
	    mount("zdtm_mnt_private00_2", "P/2", "tmpfs", 0, NULL) || mu_expect("P/2", 1) || mu_expect("S/2", 0) ||
	    mount("zdtm_mnt_private00_3", "Q/1", "tmpfs", 0, NULL) || mu_expect("Q/1", 1) || mu_expect("R/1", 0)) {
		fail("a mount propagated between private mounts after C/R");
		return 1;
	}
	pass();
	return 0;
}
