#include "ns_user_nested.h"

const char *test_doc = "As `unshare -Urp --fork`: a child makes a user namespace (its ids mapped to 0 by the "
		       "test, setgroups denied) and a pid namespace owned by it at once, and forks that pid "
		       "namespace's init, which has a thread, makes a UTS namespace with a hostname and forks a "
		       "member. After C/R: pids inside (1, 2) and every level of NSpid, the thread's tid, the "
		       "maps, ids and capabilities inside, the pid and UTS namespaces' owner are as before";
const char *test_author = "Stasis developers";

int main(int argc, char **argv)
{
	return user_nested_main(argc, argv, 1);
}
