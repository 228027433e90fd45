#include "ns_mnt_nested.h"

const char *test_doc = "A child in a mount namespace of its own holds a file of a tmpfs only it sees open: "
		       "restore opens files where the tree's root sees them, so the dump must be refused with "
		       "the tree left running; afterwards the child still reads the file through its fd";
const char *test_author = "Stasis developers";

char *dirname = "ns_mnt_nested_refused00.test";
TEST_OPTION(dirname, string, "directory to mount in", 1);

int main(int argc, char **argv)
{
	return mnt_nested_main(argc, argv, MNT_NESTED_HOLD_FD);
}
