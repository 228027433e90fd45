#include <fcntl.h>
#include <sys/stat.h>

#include "zdtmtst.h"

const char *test_doc = "Files in a subdirectory of the test's directory, open, of which one is unlinked and "
		       "another replaced by a rename over it: after C/R each fd is of its own inode with its "
		       "data, the names in the directory are those after the changes";
const char *test_author = "Stasis developers";

char *dirname;
TEST_OPTION(dirname, string, "directory name", 1);

int main(int argc, char **argv)
{
	char a[4096], b[4096], c[4096], buf[16];
	int fa, fb, fc;
	struct stat st;

	test_init(argc, argv);

	snprintf(a, sizeof(a), "%s/a", dirname);
	snprintf(b, sizeof(b), "%s/b", dirname);
	snprintf(c, sizeof(c), "%s/c", dirname);
	if (mkdir(dirname, 0755)) {
		pr_perror("mkdir");
		return 1;
	}
	fa = open(a, O_RDWR | O_CREAT, 0644);
	fb = open(b, O_RDWR | O_CREAT, 0644);
	fc = open(c, O_RDWR | O_CREAT, 0644);
	if (fa < 0 || fb < 0 || fc < 0 || write(fa, "AAAA", 4) != 4 || write(fb, "BBBB", 4) != 4 ||
	    write(fc, "CCCC", 4) != 4) {
		pr_perror("create");
		return 1;
	}
	/* a: unlinked; b: c is renamed over it (fb's inode loses its name, fc's is now called b) */
	if (unlink(a) || rename(c, b)) {
		pr_perror("unlink/rename");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (fstat(fa, &st) || st.st_nlink || pread(fa, buf, 4, 0) != 4 || memcmp(buf, "AAAA", 4)) {
		fail("the unlinked a");
		return 1;
	}
	if (fstat(fb, &st) || st.st_nlink || pread(fb, buf, 4, 0) != 4 || memcmp(buf, "BBBB", 4)) {
		fail("the replaced b (nlink %lu)", (unsigned long)st.st_nlink);
		return 1;
	}
	if (fstat(fc, &st) || st.st_nlink != 1 || pread(fc, buf, 4, 0) != 4 || memcmp(buf, "CCCC", 4)) {
		fail("the renamed c");
		return 1;
	}
	{
		struct stat sb;

		if (stat(b, &sb) || sb.st_ino != st.st_ino || access(a, F_OK) == 0 || access(c, F_OK) == 0) {
			fail("the names in %s changed", dirname);
			return 1;
		}
	}
	pass();
	return 0;
}
