#include "mnt_util.h"

const char *test_doc = "An unbindable tmpfs U inside a shared tmpfs T, with a file of T bound over a file of U: "
		       "a recursive bind of T (made before and after C/R) leaves U out, and a bind of U itself "
		       "fails with EINVAL; after C/R mountinfo still says unbindable for U and shared for T, U "
		       "keeps its file, and the covered file its own content once the bind over it is unmounted";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "work directory", 1);

static int check(const char *copy)
{
	char p[PATH_MAX];
	struct mu_info m;

	if (mu_info("T/U", &m) || !strstr(m.tags, "unbindable") || mu_tag("T", "shared") <= 0) {
		pr_err("T/U is not unbindable or T not shared\n");
		return -1;
	}
	ssprintf(p, "%s/U", copy);
	if (mu_expect(copy, 1) || mu_expect(p, 0) || mu_get("T/U/file", "u")) {
		pr_err("the recursive bind %s took U\n", copy);
		return -1;
	}
	if (mount("T/U", "one", NULL, MS_BIND, NULL) == 0 || errno != EINVAL) {
		pr_err("a bind of the unbindable mount did not fail with EINVAL\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);

	if (mkdir(dirname, 0755) || chdir(dirname) || mkdir("T", 0755) || mkdir("copy1", 0755) ||
	    mkdir("copy2", 0755) || mkdir("one", 0755) || mount("zdtm_mnt_unbindable01_t", "T", "tmpfs", 0, NULL) ||
	    mkdir("T/U", 0755) || mount(NULL, "T", NULL, MS_SHARED, NULL) ||
	    mount("zdtm_mnt_unbindable01_u", "T/U", "tmpfs", 0, NULL) || mu_put("T/U/file", "u", 0600) ||
	    mu_put("T/U/covered", "under", 0644) || mu_put("T/src", "over", 0644) ||
	    mount(NULL, "T/U", NULL, MS_UNBINDABLE, NULL) || mount("T/src", "T/U/covered", NULL, MS_BIND, NULL) ||
	    mount("T", "copy1", NULL, MS_BIND | MS_REC, NULL)) {
		pr_perror("prepare the mounts");
		return 1;
	}
	if (check("copy1"))
		return 1;

	test_daemon();
	test_waitsig();

	if (check("copy1")) {
		fail("before a new bind, after C/R");
		return 1;
	}
	if (mount("T", "copy2", NULL, MS_BIND | MS_REC, NULL) || check("copy2")) {
		fail("a recursive bind after C/R");
		return 1;
	}
	if (mu_get("T/U/covered", "over") || umount("T/U/covered") || mu_get("T/U/covered", "under")) {
		fail("the file covered in the unbindable tmpfs after C/R");
		return 1;
	}
	pass();
	return 0;
}
