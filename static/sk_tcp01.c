#define SK_V6 1
#include "sk_tcp00.c"
