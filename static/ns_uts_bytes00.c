#include <sys/utsname.h>

#include "mnt_util.h"

const char *test_doc = "A host name of the test's UTS namespace that is not UTF-8 (bytes 0xff 0xfe): criu's "
		       "utsns image keeps names as protobuf strings, which must be UTF-8, so the dump must be "
		       "refused naming the name, with the tree left running and its name unchanged";
const char *test_author = "Stasis developers";

#define HOST "zdtm-\xff\xfe-bytes"

int main(int argc, char **argv)
{
	struct utsname u;

	test_init(argc, argv);

	if (sethostname(HOST, strlen(HOST))) {
		pr_perror("sethostname");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (uname(&u) || strcmp(u.nodename, HOST)) {
		fail("the host name after the refused dump");
		return 1;
	}
	pass();
	return 0;
}
