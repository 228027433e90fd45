#include <fcntl.h>

#include "zdtmtst.h"

const char *test_doc = "An O_APPEND fd and a plain one on one file: after C/R the O_APPEND one still writes at the "
		       "end whatever its offset (moved to 0 before), the plain one writes where its offset is";
const char *test_author = "Stasis developers";

char *filename;
TEST_OPTION(filename, string, "file name", 1);

int main(int argc, char **argv)
{
	int app, plain;
	char buf[64];

	test_init(argc, argv);

	plain = open(filename, O_RDWR | O_CREAT | O_TRUNC, 0644);
	app = open(filename, O_WRONLY | O_APPEND);
	if (plain < 0 || app < 0 || write(plain, "head", 4) != 4 || write(app, "-tail", 5) != 5 ||
	    lseek(app, 0, SEEK_SET) != 0 || lseek(plain, 1, SEEK_SET) != 1) {
		pr_perror("setup");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (!(fcntl(app, F_GETFL) & O_APPEND) || (fcntl(plain, F_GETFL) & O_APPEND)) {
		fail("O_APPEND changed");
		return 1;
	}
	if (lseek(app, 0, SEEK_CUR) != 0 || lseek(plain, 0, SEEK_CUR) != 1) {
		fail("offsets changed");
		return 1;
	}
	if (write(app, "+end", 4) != 4 || write(plain, "E", 1) != 1) {
		fail("write");
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	if (pread(plain, buf, sizeof(buf), 0) != 13 || strcmp(buf, "hEad-tail+end")) {
		fail("the file is '%s', expected 'hEad-tail+end'", buf);
		return 1;
	}
	pass();
	return 0;
}
