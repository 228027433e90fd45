/* stopped01 without consuming the stop report before C/R: it must be reported exactly once after */
#define STOP_CONSUMED 0
const char *test_doc = "A child stopped by SIGSTOP whose stop report is still pending at C/R: after it the child is in "
		       "state T and waitpid(WUNTRACED) reports the stop exactly once";
#include "stopped01.c"
