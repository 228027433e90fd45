/* mlockall00 with MCL_FUTURE|MCL_ONFAULT: new mappings get lo+lf and stay unpopulated */
#define MLOCKALL_ONFAULT 1
const char *test_doc = "Check that mlockall(MCL_FUTURE|MCL_ONFAULT) survives C/R: a mapping made afterwards has "
		       "VmFlags lo and lf, VmLck grows, its pages are not populated; an older mapping is not locked";
#include "mlockall00.c"
