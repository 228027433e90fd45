#ifndef ZDTM_NS_READY_H
#define ZDTM_NS_READY_H
/*
 * Processes of a multi-process program: each says "ready" once set up, then waits for "go" (after C/R)
 * and gives its verdict by its exit status. ns_pid_nested00/01.
 */
#include <unistd.h>

#include "zdtmtst.h"

static int ns_ready_pipe[2], ns_go_pipe[2];

static inline int ns_ready_init(void)
{
	return pipe(ns_ready_pipe) || pipe(ns_go_pipe) ? -1 : 0;
}

/* in a child: set up; exits (90/91) if the test is gone */
static inline void ns_say_ready(void)
{
	if (write(ns_ready_pipe[1], "r", 1) != 1)
		_exit(90);
}

static inline void ns_wait_go(void)
{
	char c;

	if (read(ns_go_pipe[0], &c, 1) != 1)
		_exit(91);
}

/* in the test: n children are ready (0), or one is gone (-1, reported) */
static inline int ns_wait_ready(int n)
{
	char c;

	while (n--)
		if (read(ns_ready_pipe[0], &c, 1) != 1) {
			pr_err("a child did not get ready\n");
			return -1;
		}
	return 0;
}

static inline int ns_go(int n)
{
	while (n--)
		if (write(ns_go_pipe[1], "g", 1) != 1)
			return -1;
	return 0;
}
#endif
