#include "mnt_util.h"

const char *test_doc = "One peer group of six mounts the test makes: a shared tmpfs, two binds of it, and a bind "
		       "in a directory of the tmpfs itself (peer and child at once, propagated into the other two): "
		       "after C/R the six are in one peer group that no other mount is in, and a mount or umount "
		       "under any of them shows in all six";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "work directory", 1);

/* the bind on a/in propagates to b/in and c/in: six peers */
static const char *peers[] = { "a", "b", "c", "a/in", "b/in", "c/in" };
#define NPEERS 6

static int group_ok(void)
{
	int g = mu_tag(peers[0], "shared"), i;
	char line[4096], needle[32];
	int n = 0;
	FILE *f;

	if (g <= 0) {
		pr_err("%s is not shared\n", peers[0]);
		return -1;
	}
	for (i = 1; i < NPEERS; i++)
		if (mu_tag(peers[i], "shared") != g) {
			pr_err("%s is not in peer group %d\n", peers[i], g);
			return -1;
		}
	snprintf(needle, sizeof(needle), " shared:%d ", g);
	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return pr_perror("mountinfo");
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	if (n != NPEERS) {
		pr_err("%d mounts in peer group %d, expected %d\n", n, g, NPEERS);
		return -1;
	}
	return 0;
}

static int everywhere(const char *sub, int want)
{
	char p[PATH_MAX];
	int i;

	for (i = 0; i < NPEERS; i++) {
		ssprintf(p, "%s/%s", peers[i], sub);
		if (mu_expect(p, want))
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char p[PATH_MAX];
	int i;

	test_init(argc, argv);

	if (mkdir(dirname, 0755) || chdir(dirname) || mkdir("a", 0755) || mkdir("b", 0755) || mkdir("c", 0755) ||
	    mount("zdtm_mnt_peers00", "a", "tmpfs", 0, NULL) || mkdir("a/in", 0755) || mkdir("a/x", 0755) ||
	    mkdir("a/y", 0755) || mount(NULL, "a", NULL, MS_SHARED, NULL) || mount("a", "b", NULL, MS_BIND, NULL) ||
	    mount("a", "c", NULL, MS_BIND, NULL) || mount("b", "a/in", NULL, MS_BIND, NULL)) {
		pr_perror("prepare the mounts");
		return 1;
	}
	if (group_ok())
		return 1;

	test_daemon();
	test_waitsig();

	if (group_ok()) {
		fail("the peer group after C/R");
		return 1;
	}
	for (i = 0; i < NPEERS; i++) {
		ssprintf(p, "%s/x", peers[i]);
		if (mount("zdtm_mnt_peers00_x", p, "tmpfs", 0, NULL) || everywhere("x", 1)) {
			fail("a mount under %s after C/R", peers[i]);
			return 1;
		}
		if (umount(p) || everywhere("x", 0)) {
			fail("an umount under %s after C/R", peers[i]);
			return 1;
		}
	}
	if (mu_expect("a/y", 0) || mu_expect("a/in/in", 0)) {
		fail("the tree after C/R");
		return 1;
	}
	pass();
	return 0;
}
