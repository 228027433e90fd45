#ifndef ZDTM_NS_OUTER_H
#define ZDTM_NS_OUTER_H
/*
 * A child left in the namespaces the test started in (forked before the test unshares its own). After C/R
 * "the test is not in the outer namespace" is asked of this child's namespace: two live namespaces never
 * share an inode, while the number of one that died (the outer one of a tree in a namespace of its own is
 * made again at restore) is free for reuse, so the number the test saw before C/R proves nothing after it.
 * Only where the test is the init of a pid namespace of its own (flavors ns, uns): in h the outer namespaces
 * are the host's, alive throughout (the number read before C/R stays good), and a child left in them would
 * be a process of the tree outside the root's namespaces. ns_ipc00, ns_net00, ns_uts00.
 */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "zdtmtst.h"

static pid_t ns_outer_pid;

static inline int ns_outer_start(void)
{
	if (getpid() != 1)
		return 0;
	ns_outer_pid = fork();
	if (ns_outer_pid < 0)
		return pr_perror("fork");
	if (ns_outer_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		while (1)
			pause();
	}
	return 0;
}

/* the inode of the child's namespace of that kind ("uts", "net"...); *ino unchanged without a child */
static inline int ns_outer_ino(const char *kind, ino_t *ino)
{
	char path[64];
	struct stat st;

	if (!ns_outer_pid)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", ns_outer_pid, kind);
	if (stat(path, &st))
		return pr_perror("stat %s", path);
	*ino = st.st_ino;
	return 0;
}

static inline void ns_outer_stop(void)
{
	if (ns_outer_pid > 0) {
		kill(ns_outer_pid, SIGKILL);
		waitpid(ns_outer_pid, NULL, 0);
		ns_outer_pid = 0;
	}
}
#endif
