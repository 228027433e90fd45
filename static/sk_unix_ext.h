/* A peer outside the dumped tree: a grandchild that the program's child leaves behind (reparented) */
#ifndef ZDTM_STATIC_SK_UNIX_EXT_H
#define ZDTM_STATIC_SK_UNIX_EXT_H

#include <signal.h>
#include <sys/wait.h>

#include "sk_unix.h"

/*
 * Forks a child that forks @fn in a grandchild and exits at once: the grandchild is outside the tree.
 * @fn gets @arg; it must end by itself (it also has an alarm). Returns once the child is reaped and
 * @ready has a byte from the grandchild.
 */
static inline int sk_outsider(int (*fn)(void *), void *arg, int ready_rd, int ready_wr)
{
	pid_t pid = fork();
	int status;
	char c;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		pid_t g = fork();

		if (g < 0)
			_exit(1);
		if (g == 0) {
			close(ready_rd);
			alarm(60);
			_exit(fn(arg));
		}
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	close(ready_wr);
	if (read(ready_rd, &c, 1) != 1)
		return -1;
	close(ready_rd);
	return 0;
}

#endif
