#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "Propagation the test sets up: a shared tmpfs with a peer (bind of it), a slave of "
		       "it, and a private bind: after C/R a mount made under the first appears in the peer and "
		       "in the slave but not in the private bind, and one made under the slave stays there; "
		       "mountinfo shows the same peer-group structure";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "work directory", 1);

static int mounted(const char *path)
{
	struct stat a, b;
	char up[PATH_MAX];

	snprintf(up, sizeof(up), "%s/..", path);
	if (stat(path, &a) || stat(up, &b))
		return -1;
	return a.st_dev != b.st_dev;
}

static int expect(const char *path, int want)
{
	int got = mounted(path);

	if (got != want) {
		pr_err("%s is %s\n", path, got < 0 ? "missing" : got ? "a mount point" : "not a mount point");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);

	if (mkdir(dirname, 0755) || chdir(dirname) || mkdir("master", 0755) || mkdir("peer", 0755) ||
	    mkdir("slave", 0755) || mkdir("private", 0755) ||
	    mount("zdtm_mnt_shared00", "master", "tmpfs", 0, NULL) || mkdir("master/a", 0755) ||
	    mkdir("master/b", 0755) || mount(NULL, "master", NULL, MS_SHARED, NULL) ||
	    mount("master", "peer", NULL, MS_BIND, NULL) || mount("master", "slave", NULL, MS_BIND, NULL) ||
	    mount(NULL, "slave", NULL, MS_SLAVE, NULL) || mount("master", "private", NULL, MS_BIND, NULL) ||
	    mount(NULL, "private", NULL, MS_PRIVATE, NULL)) {
		pr_perror("prepare the mounts");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (mount("zdtm_mnt_shared00_a", "master/a", "tmpfs", 0, NULL)) {
		fail("mount under master after C/R");
		return 1;
	}
	if (expect("master/a", 1) || expect("peer/a", 1) || expect("slave/a", 1) || expect("private/a", 0)) {
		fail("a mount under the shared tmpfs did not propagate as before C/R");
		return 1;
	}
	if (mount("zdtm_mnt_shared00_b", "slave/b", "tmpfs", 0, NULL)) {
		fail("mount under slave after C/R");
		return 1;
	}
	if (expect("slave/b", 1) || expect("master/b", 0) || expect("peer/b", 0)) {
		fail("a mount under the slave propagated back after C/R");
		return 1;
	}
	pass();
	return 0;
}
