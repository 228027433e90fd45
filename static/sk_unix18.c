const char *test_doc = "Unix listeners with connections not yet accepted (criu refuses them): a bound client "
		       "that wrote data, a client that wrote and closed, one that shut down writing, and a "
		       "seqpacket client with two messages; after C/R the connections are accepted in their "
		       "order with their data and names, EOF where the client closed, and work both ways";
const char *test_author = "Stasis developers";
#define PENDING_NAME "sk-unix18"
#include "sk_unix_pending.h"
