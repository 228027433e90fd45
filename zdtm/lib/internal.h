/* Library-private glue between test.c, ns.c and ext.c; test programs never include this. */
#ifndef ZDTM_INTERNAL_H
#define ZDTM_INTERNAL_H

#include "lock.h"

/* --pidfile; ns.c swaps it for <pidfile>.inprogress / <pidfile>ns at various stages */
extern char *pidfile;
/* Set (to the signal number) by the SIGTERM handler; test_go()/test_waitsig() read it. */
extern futex_t sig_received;
/* pre-dump-notify fds (-1 when unused) */
extern int criu_status_in, criu_status_in_peer, criu_status_out;

extern const char *zdtm_outfile(void);
extern void zdtm_redir_stdin(void);
extern int init_notify(void);

/* ns.c: ZDTM_NEWNS=1 never returns; ZDTM_NEWNS=2 returns only in the forked test process. */
extern void ns_create(int argc, char **argv);
extern void ns_init(int argc, char **argv);

#endif /* ZDTM_INTERNAL_H */
