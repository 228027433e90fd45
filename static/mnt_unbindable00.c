#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "An unbindable tmpfs the test mounts: after C/R mountinfo still says unbindable and a "
		       "bind of it fails with EINVAL, while a bind of an ordinary tmpfs next to it works";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "work directory", 1);

static int unbindable_in_mountinfo(void)
{
	char line[1024], pt[PATH_MAX], want[PATH_MAX + 2];
	int found = 0;
	FILE *f;

	if (!realpath("unbindable", pt))
		return -1;
	snprintf(want, sizeof(want), " %s ", pt);
	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, want) && strstr(line, " unbindable "))
			found = 1;
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);

	if (mkdir(dirname, 0755) || chdir(dirname) || mkdir("unbindable", 0755) || mkdir("plain", 0755) ||
	    mkdir("to", 0755) || mount("zdtm_mnt_unbindable00", "unbindable", "tmpfs", 0, NULL) ||
	    mount(NULL, "unbindable", NULL, MS_UNBINDABLE, NULL) ||
	    mount("zdtm_mnt_unbindable00_plain", "plain", "tmpfs", 0, NULL)) {
		pr_perror("prepare the mounts");
		return 1;
	}
	if (unbindable_in_mountinfo() != 1) {
		pr_err("no unbindable mount in mountinfo\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (unbindable_in_mountinfo() != 1) {
		errno = 0;
		fail("the mount is not unbindable after C/R");
		return 1;
	}
	if (mount("unbindable", "to", NULL, MS_BIND, NULL) == 0 || errno != EINVAL) {
		fail("binding the unbindable mount after C/R");
		return 1;
	}
	if (mount("plain", "to", NULL, MS_BIND, NULL)) {
		fail("binding an ordinary tmpfs after C/R");
		return 1;
	}
	umount2("to", MNT_DETACH);
	pass();
	return 0;
}
