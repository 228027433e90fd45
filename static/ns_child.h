#ifndef ZDTM_NS_CHILD_H
#define ZDTM_NS_CHILD_H
/*
 * A child that sets up a namespace of its own, says "ready", waits for "go" (after C/R) and checks it:
 * its exit status is its verdict. ns_ipc_child00, ns_net_child00.
 */
#include <sys/wait.h>

#include "zdtmtst.h"

struct ns_child {
	pid_t pid;
	int go;		/* the test's end of the "go" pipe */
};

/* Fork fn(go_fd, ready_fd) and wait for its "ready"; 0 or -1. */
static inline int ns_child_start(struct ns_child *c, int (*fn)(int go, int ready))
{
	int go[2], ready[2];
	char b;

	if (pipe(go) || pipe(ready))
		return pr_perror("pipe");
	c->pid = fork();
	if (c->pid < 0)
		return pr_perror("fork");
	if (c->pid == 0)
		_exit(fn(go[0], ready[1]));
	close(go[0]);
	close(ready[1]);
	c->go = go[1];
	if (read(ready[0], &b, 1) != 1) {
		pr_err("the child did not get ready\n");
		return -1;
	}
	close(ready[0]);
	return 0;
}

/* Let it check (after C/R) and collect its verdict; 0 if it found everything, else -1 (reported). */
static inline int ns_child_finish(struct ns_child *c, const char *what)
{
	int st;

	if (write(c->go, "g", 1) != 1 || waitpid(c->pid, &st, 0) != c->pid) {
		fail("the child is gone");
		return -1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		errno = 0;
		fail("the child found its %s changed (status %#x)", what, st);
		return -1;
	}
	return 0;
}
#endif
