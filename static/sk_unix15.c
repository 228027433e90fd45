const char *test_doc = "A datagram socket connected to a receiver outside the dumped tree, without "
		       "--ext-unix-sk: the dump is refused, the socket still works after the refusal";
const char *test_author = "Stasis developers";
#define EXT_NAME "sk-unix15"
#include "sk_unix_extdg.h"
