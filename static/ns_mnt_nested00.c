#include "ns_mnt_nested.h"

const char *test_doc = "A child makes a mount namespace of its own (unshare CLONE_NEWNS, everything made "
		       "private as unshare -m does): a tmpfs with a file, a read-only bind of a directory of it, "
		       "and a second child that enters that namespace by setns. After C/R both "
		       "see the same mounts (points, file systems, flags, propagation), the file's content, the "
		       "read-only bind; the test itself sees none of them";
const char *test_author = "Stasis developers";

char *dirname = "ns_mnt_nested00.test";
TEST_OPTION(dirname, string, "directory to mount in", 1);

int main(int argc, char **argv)
{
	return mnt_nested_main(argc, argv, 0);
}
