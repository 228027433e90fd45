#include "ns_mnt_nested.h"

const char *test_doc = "As unshare -Urm: a child makes a user namespace (its ids mapped to 0 by the test), then "
		       "a mount namespace owned by it (its copies locked, made private): a tmpfs with a file and "
		       "a read-only bind of a directory of it; a second child enters both by setns. After C/R "
		       "both see the same mounts, the file, the read-only bind, and are root in that user "
		       "namespace; the test sees none of the mounts";
const char *test_author = "Stasis developers";

char *dirname = "ns_mnt_nested01.test";
TEST_OPTION(dirname, string, "directory to mount in", 1);

int main(int argc, char **argv)
{
	return mnt_nested_main(argc, argv, MNT_NESTED_USERNS);
}
