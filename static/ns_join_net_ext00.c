/* criu's external network namespace, as runc uses it for a container whose config names a netns path */
#define TEST_DOC "Dumped with --external net[INODE]:extRootNetNS (its network namespace is not dumped) and " \
		 "restored with --inherit-fd fd[N]:extRootNetNS, N an fd of a network namespace the harness " \
		 "made (lo up, net.ipv4.ip_default_ttl 93): after C/R the test is in that one, with the checks " \
		 "of ns_join_net00 (its abstract unix socket was made there)"
#include "ns_join_net00.c"
