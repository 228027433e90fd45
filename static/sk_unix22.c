const char *test_doc = "Unix listeners with connections not yet accepted, dumped with --leave-running: refused "
		       "(the embryos' data can be read only by accepting them, which the running tree must not "
		       "lose); after the refusal the connections are accepted with their data";
const char *test_author = "Stasis developers";
#define PENDING_NAME "sk-unix22"
#include "sk_unix_pending.h"
