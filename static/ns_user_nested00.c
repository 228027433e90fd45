#include "ns_user_nested.h"

const char *test_doc = "A child makes a user namespace below the test's (its uid and gid mapped to 0, setgroups "
		       "denied, written by the test as an unprivileged process would) and a UTS namespace owned "
		       "by it with a hostname; it has a thread and a child of its own. After C/R: the maps, "
		       "setgroups, its ids and full capabilities inside, the namespace's owner, the UTS "
		       "namespace's owner and name, the thread's tid and the grandchild's pid are as before";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	return user_nested_main(argc, argv, 0);
}
