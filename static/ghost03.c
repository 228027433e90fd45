#include <fcntl.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "A removed directory held open (O_RDONLY | O_DIRECTORY): the dump must refuse it (an "
		       "unlinked directory cannot be made again) and leave the process running as it was";
const char *test_author = "Stasis developers";

static char *dirname;
TEST_OPTION(dirname, string, "directory", 1);

int main(int argc, char **argv)
{
	char sub[4096];
	struct stat st;
	int dfd;

	test_init(argc, argv);

	snprintf(sub, sizeof(sub), "%s/held", dirname);
	if (mkdir(dirname, 0700) || mkdir(sub, 0700))
		return pr_perror("mkdir %s", dirname);
	dfd = open(sub, O_RDONLY | O_DIRECTORY);
	if (dfd < 0 || rmdir(sub))
		return pr_perror("open/rmdir %s", sub);

	test_daemon();
	test_waitsig();

	if (fstat(dfd, &st) || !S_ISDIR(st.st_mode) || st.st_nlink != 0) {
		fail("the removed directory changed (nlink %lu)", (unsigned long)st.st_nlink);
		return 1;
	}
	rmdir(dirname);
	pass();
	return 0;
}
