/* session00's process-tree builder and checks, with a tree whose leaders exit before C/R. */
const char *test_doc = "A process group whose leader has exited and a session whose leader has exited "
		       "(their members reparented to the subreaper root): pid, parent, group and session survive C/R";

/*
 * 0 root: session S0, group S0, child subreaper
 * 1  new group G1, exits once 2 and 3 exist: G1 has no leader any more
 * 2    member of G1 (reparented to 0)
 * 3    member of G1 (reparented to 0)
 * 4  setsid -> S4, exits once 5 exists: S4 has no leader any more
 * 5    member of S4 and of group S4 (reparented to 0)
 * 6      new group G6 in the leaderless session S4
 */
#define SESSION_NODES \
	{ -1, A_NONE, 0, 0 }, { 0, A_NEWPGRP, 0, 1 }, { 1, A_NONE, 0, 0 }, { 1, A_NONE, 0, 0 }, \
	{ 0, A_SETSID, 0, 1 }, { 4, A_NONE, 0, 0 }, { 5, A_NEWPGRP, 0, 0 },
#define SUBREAPER 1

#include "session00.c"
