#include "mnt_util.h"

const char *test_doc = "A chain of propagation the test makes: A a shared tmpfs; B a bind of A made a slave of "
		       "A and then shared again (shared and slave at once); C a peer of B; D a slave of B: after "
		       "C/R mountinfo shows B and C in one new group whose master is A's, D a slave of that group; "
		       "a mount under A reaches B, C and D, one under B reaches C and D but not A, one under D "
		       "stays in D";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "work directory", 1);

static int shape(void)
{
	int ga = mu_tag("A", "shared"), gb = mu_tag("B", "shared");

	if (ga <= 0 || gb <= 0 || ga == gb) {
		pr_err("A in group %d, B in group %d\n", ga, gb);
		return -1;
	}
	if (mu_tag("A", "master") || mu_tag("B", "master") != ga || mu_tag("C", "shared") != gb ||
	    mu_tag("C", "master") != ga || mu_tag("D", "master") != gb || mu_tag("D", "shared")) {
		pr_err("B/C/D are not shared and slaves as made\n");
		return -1;
	}
	return 0;
}

static int seen(const char *sub, const char *where)
{
	const char *all[] = { "A", "B", "C", "D" };
	char p[PATH_MAX];
	int i;

	for (i = 0; i < 4; i++) {
		ssprintf(p, "%s/%s", all[i], sub);
		if (mu_expect(p, strchr(where, all[i][0]) != NULL))
			return -1;
	}
	return 0;
}

static int try_under(const char *top, const char *sub, const char *where)
{
	char p[PATH_MAX];

	ssprintf(p, "%s/%s", top, sub);
	if (mount("zdtm_mnt_slave01_x", p, "tmpfs", 0, NULL)) {
		pr_perror("mount on %s", p);
		return -1;
	}
	if (seen(sub, where)) {
		pr_err("a mount under %s is not seen in exactly %s\n", top, where);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);

	if (mkdir(dirname, 0755) || chdir(dirname) || mkdir("A", 0755) || mkdir("B", 0755) || mkdir("C", 0755) ||
	    mkdir("D", 0755) || mount("zdtm_mnt_slave01", "A", "tmpfs", 0, NULL) || mkdir("A/a", 0755) ||
	    mkdir("A/b", 0755) || mkdir("A/d", 0755) || mount(NULL, "A", NULL, MS_SHARED, NULL) ||
	    mount("A", "B", NULL, MS_BIND, NULL) || mount(NULL, "B", NULL, MS_SLAVE, NULL) ||
	    mount(NULL, "B", NULL, MS_SHARED, NULL) || mount("B", "C", NULL, MS_BIND, NULL) ||
	    mount("B", "D", NULL, MS_BIND, NULL) || mount(NULL, "D", NULL, MS_SLAVE, NULL)) {
		pr_perror("prepare the mounts");
		return 1;
	}
	if (shape())
		return 1;

	test_daemon();
	test_waitsig();

	if (shape()) {
		fail("the propagation after C/R");
		return 1;
	}
	if (try_under("A", "a", "ABCD") || try_under("B", "b", "BCD") || try_under("D", "d", "D")) {
		fail("propagation after C/R");
		return 1;
	}
	pass();
	return 0;
}
