/* ns_net_dummy00 with an ifb device (a kind made like dummy: no settings of its own) */
#define KIND "ifb"
#define DEV "zifb0"
#include "ns_net_dummy00.c"
