/* Helper processes that are not tests themselves: parse the options and log only. */
#include "zdtmtst.h"
#include "internal.h"

void test_ext_init(int argc, char **argv)
{
	parseargs(argc, argv);
	if (test_log_init(zdtm_outfile(), ".external"))
		exit(1);
}
