/* io_uring01's ring, dumped without --io-uring: refused (crfail), and the ring works on as before */
#include "io_uring01.c"
