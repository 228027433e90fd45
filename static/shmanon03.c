/* shmanon02, layout 3: nobody maps page 0, the child's mapping (pgoff 1) was moved by mremap */
#define SHM_LAYOUT 3
const char *test_doc = "A shared anonymous object nobody maps from page 0: the parent maps pages 2-3, the child moved "
		       "pages 1-3 elsewhere with mremap; after C/R writes are seen both ways at the right offsets";
#include "shmanon02.c"
