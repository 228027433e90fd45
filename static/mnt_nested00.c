#include "mnt_util.h"

const char *test_doc = "Mounts nested five levels deep: a tmpfs, a tmpfs in it, a bind of a subdirectory of the "
		       "first in that, a tmpfs in the bind, a read-only tmpfs in that, each level with a file: "
		       "after C/R each level is a mount whose parent in mountinfo is the level above, each file is "
		       "there, the mount in the bind is not seen in the bind's source, and the last level is "
		       "read-only";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "work directory", 1);

static const char *lv[] = { "t", "t/l2", "t/l2/l3", "t/l2/l3/l4", "t/l2/l3/l4/l5" };
static const char *text[] = { "one", "two", "three", "four", "five" };

static int check(void)
{
	struct mu_info m, up;
	char p[PATH_MAX];
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(lv); i++) {
		ssprintf(p, "%s/f%u", lv[i], i);
		if (mu_expect(lv[i], 1) || mu_get(p, text[i]) || mu_info(lv[i], &m))
			return -1;
		if (i && (mu_info(lv[i - 1], &up) || m.parent != up.id)) {
			pr_err("%s: parent %d, not %s (%d)\n", lv[i], m.parent, lv[i - 1], up.id);
			return -1;
		}
	}
	if (mu_info("t/l2/l3", &m) || strcmp(m.root, "/sub") || mu_expect("t/sub/l4", 0) ||
	    mu_get("t/sub/f2", "three") || mu_info(lv[4], &m) || !mu_has_opt(m.opts, "ro")) {
		pr_err("the bind or the last level\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char p[PATH_MAX];

	test_init(argc, argv);

	if (mkdir(dirname, 0755) || chdir(dirname) || mkdir("t", 0755) ||
	    mount("zdtm_mnt_nested00_1", "t", "tmpfs", 0, NULL) || mu_put("t/f0", text[0], 0644) ||
	    mkdir("t/sub", 0755) || mkdir("t/sub/l4", 0755) || mu_put("t/sub/f2", text[2], 0644) ||
	    mkdir("t/l2", 0755) || mount("zdtm_mnt_nested00_2", "t/l2", "tmpfs", 0, NULL) ||
	    mu_put("t/l2/f1", text[1], 0644) || mkdir("t/l2/l3", 0755) ||
	    mount("t/sub", "t/l2/l3", NULL, MS_BIND, NULL) ||
	    mount("zdtm_mnt_nested00_4", "t/l2/l3/l4", "tmpfs", 0, NULL) || mu_put("t/l2/l3/l4/f3", text[3], 0644) ||
	    mkdir("t/l2/l3/l4/l5", 0755) || mount("zdtm_mnt_nested00_5", "t/l2/l3/l4/l5", "tmpfs", 0, NULL)) {
		pr_perror("prepare the mounts");
		return 1;
	}
	ssprintf(p, "%s/f4", lv[4]);
	if (mu_put(p, text[4], 0644) || mount(NULL, lv[4], NULL, MS_REMOUNT | MS_RDONLY, NULL)) {
		pr_perror("the last level");
		return 1;
	}
	if (check())
		return 1;

	test_daemon();
	test_waitsig();

	if (check()) {
		fail("the nested mounts after C/R");
		return 1;
	}
	pass();
	return 0;
}
