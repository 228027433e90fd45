/* pipe_packet00 with an empty pipe: only the O_DIRECT flag (packet mode) has to survive */
#define NR_PACKETS 0
#include "pipe_packet00.c"
