#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "Check that /proc/self/exe points to the same file after C/R";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	char link_before[PATH_MAX], link_after[PATH_MAX];
	struct stat st_before, st_after, st_path;
	ssize_t n;

	test_init(argc, argv);

	n = readlink("/proc/self/exe", link_before, sizeof(link_before) - 1);
	if (n < 0) {
		pr_perror("readlink(/proc/self/exe)");
		return 1;
	}
	link_before[n] = '\0';
	if (stat("/proc/self/exe", &st_before)) {
		pr_perror("stat(/proc/self/exe)");
		return 1;
	}

	test_daemon();
	test_waitsig();

	n = readlink("/proc/self/exe", link_after, sizeof(link_after) - 1);
	if (n < 0) {
		fail("readlink(/proc/self/exe)");
		return 1;
	}
	link_after[n] = '\0';
	if (strcmp(link_before, link_after)) {
		fail("/proc/self/exe was %s, now %s", link_before, link_after);
		return 1;
	}
	if (stat("/proc/self/exe", &st_after)) {
		fail("stat(/proc/self/exe)");
		return 1;
	}
	if (st_before.st_dev != st_after.st_dev || st_before.st_ino != st_after.st_ino) {
		fail("/proc/self/exe is another file: dev/ino %lx/%lu before, %lx/%lu after", (long)st_before.st_dev,
		     (unsigned long)st_before.st_ino, (long)st_after.st_dev, (unsigned long)st_after.st_ino);
		return 1;
	}
	/* The link target must name the same file in our mount namespace */
	if (stat(link_after, &st_path) || st_path.st_dev != st_after.st_dev || st_path.st_ino != st_after.st_ino) {
		fail("%s is not the file /proc/self/exe refers to", link_after);
		return 1;
	}

	pass();
	return 0;
}
