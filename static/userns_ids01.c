/* userns_ids00 as root (suid: every capability in its namespace) with ids of its own */
#define USERNS_OWN_IDS
#define USERNS_IDS_DOC "As userns_ids00, as root with ids of its own (real, effective, saved uids and gids all " \
		       "different, two groups, some capabilities effective): "
#include "userns_ids00.c"
