#define ZDTM_UDP6
#include "socket_udp.c"
