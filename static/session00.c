#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "zdtmtst.h"
#include "lock.h"

#ifndef SESSION_NODES /* session01 reuses this program with another tree */
const char *test_doc = "Processes in a new session (setsid, also below another session), in other process groups, "
		       "as group leaders and as members of a group led by a sibling: pid, parent, group and session "
		       "survive C/R";
#endif
const char *test_author = "Stasis developers";

enum { A_NONE, A_SETSID, A_NEWPGRP, A_JOINPGRP };

struct spec {
	int parent;	/* index of the parent node */
	int action;
	int arg;	/* A_JOINPGRP: the node whose process group is joined */
	int exits;	/* the node exits (and is reaped) once its subtree is ready */
};

/*
 * 0 root: session S0, group S0
 * 1  setsid -> S1
 * 2    new group G2 in S1
 * 3      member of G2
 * 4    joins G2 (led by its sibling)
 * 5  new group G5 in S0
 * 6    member of G5
 * 7  joins G5
 * 8  plain member of S0
 * 9    setsid -> S9 below a process of S0
 */
#ifndef SESSION_NODES
#define SESSION_NODES \
	{ -1, A_NONE, 0, 0 },	 { 0, A_SETSID, 0, 0 }, { 1, A_NEWPGRP, 0, 0 }, { 2, A_NONE, 0, 0 }, \
	{ 1, A_JOINPGRP, 2, 0 }, { 0, A_NEWPGRP, 0, 0 }, { 5, A_NONE, 0, 0 },	 { 0, A_JOINPGRP, 5, 0 }, \
	{ 0, A_NONE, 0, 0 },	 { 8, A_SETSID, 0, 0 },
#define SUBREAPER 0
#endif
static const struct spec nodes_spec[] = { SESSION_NODES };

#define NR_NODES ((int)ARRAY_SIZE(nodes_spec))

struct node {
	pid_t pid, ppid, pgid, sid; /* expected, read by the root from /proc once the tree is built */
	futex_t ready;
	int verdict; /* 1 pass, 2 fail */
	char why[128];
};

struct shared {
	futex_t go;
	futex_t done;
	struct node n[NR_NODES];
};

static struct shared *sh;

static int wait_ge(futex_t *f, uint32_t v, int secs)
{
	struct timespec end, now, ts = { 0, 100 * 1000 * 1000 };

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += secs;
	while (1) {
		uint32_t c = futex_get(f);

		if (c >= v)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			return -1;
		sys_futex(&f->raw, FUTEX_WAIT, c, &ts, NULL, 0);
	}
}

static int build(int me);

static void node_main(int me)
{
	const struct spec *s = &nodes_spec[me];
	struct node *n = &sh->n[me];
	pid_t pid, ppid, pgid, sid;
	int i, status, bad = 0;

	/* A node whose parent exits on purpose must survive that; it watches the root instead */
	if (!nodes_spec[s->parent].exits)
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != sh->n[s->parent].pid)
		_exit(10);
	switch (s->action) {
	case A_SETSID:
		if (setsid() < 0)
			_exit(11);
		break;
	case A_NEWPGRP:
		if (setpgid(0, 0))
			_exit(12);
		break;
	case A_JOINPGRP:
		if (setpgid(0, sh->n[s->arg].pid))
			_exit(13);
		break;
	}
	if (build(me))
		_exit(14);
	futex_set_and_wake(&n->ready, 1);
	if (s->exits) {
		/* the group/session stays without its leader; the children are orphaned */
		prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
		_exit(0);
	}

	while (wait_ge(&sh->go, 1, 1)) {
		if (kill(sh->n[0].pid, 0) && errno == ESRCH)
			_exit(16); /* the root is gone */
	}
	if (futex_get(&sh->go) != 1)
		_exit(15);

	pid = getpid();
	ppid = getppid();
	pgid = getpgid(0);
	sid = getsid(0);
	if (pid != n->pid || ppid != n->ppid || pgid != n->pgid || sid != n->sid) {
		snprintf(n->why, sizeof(n->why), "pid/ppid/pgid/sid %d/%d/%d/%d, expected %d/%d/%d/%d", pid, ppid,
			 pgid, sid, n->pid, n->ppid, n->pgid, n->sid);
		bad = 1;
	}
	/* Reap the children still ours */
	for (i = 0; i < NR_NODES; i++) {
		if (i == me || sh->n[i].ppid != n->pid || nodes_spec[i].exits)
			continue;
		if (waitpid(sh->n[i].pid, &status, 0) != sh->n[i].pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			if (!bad)
				snprintf(n->why, sizeof(n->why), "child node %d exit status %#x", i, status);
			bad = 1;
		}
	}
	n->verdict = bad ? 2 : 1;
	futex_inc_and_wake(&sh->done);
	_exit(bad);
}

/* Fork the children of @me depth first, one at a time, each after the previous subtree is ready */
static int build(int me)
{
	int i;
	pid_t pid;

	for (i = 1; i < NR_NODES; i++) {
		if (nodes_spec[i].parent != me)
			continue;
		pid = fork();
		if (pid < 0)
			return -1;
		if (pid == 0) {
			sh->n[i].pid = getpid();
			node_main(i);
		}
		sh->n[i].pid = pid;
		if (wait_ge(&sh->n[i].ready, 1, 10))
			return -1;
	}
	return 0;
}

static int read_stat(pid_t pid, pid_t *ppid, pid_t *pgid, pid_t *sid)
{
	char path[64], buf[512], *p;
	int fd, len;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %d %d %d", ppid, pgid, sid) != 3)
		return -1;
	return 0;
}

static void kill_all(void)
{
	int i;

	for (i = 1; i < NR_NODES; i++)
		if (sh->n[i].pid > 0)
			kill(sh->n[i].pid, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
}

int main(int argc, char **argv)
{
	int i, status, live = 0, failed = 0;

	test_init(argc, argv);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	if (SUBREAPER && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) {
		pr_perror("PR_SET_CHILD_SUBREAPER");
		return 1;
	}
	sh->n[0].pid = getpid();
	if (build(0)) {
		pr_perror("can't build the tree");
		kill_all();
		return 1;
	}
	/* Reap the nodes that exit on purpose (children of the root) */
	for (i = 1; i < NR_NODES; i++) {
		if (!nodes_spec[i].exits)
			continue;
		if (nodes_spec[i].parent != 0 || waitpid(sh->n[i].pid, &status, 0) != sh->n[i].pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status)) {
			pr_err("node %d did not exit cleanly\n", i);
			kill_all();
			return 1;
		}
	}
	for (i = 0; i < NR_NODES; i++) {
		struct node *n = &sh->n[i];

		if (nodes_spec[i].exits)
			continue;
		live++;
		if (read_stat(n->pid, &n->ppid, &n->pgid, &n->sid)) {
			pr_perror("can't read /proc/%d/stat", n->pid);
			kill_all();
			return 1;
		}
		test_msg("node %2d: pid %d ppid %d pgid %d sid %d\n", i, n->pid, n->ppid, n->pgid, n->sid);
	}

	test_daemon();
	test_waitsig();

	/* The root's parent (the launcher) exits in test_daemon(): its ppid is not checked */
	if (getpid() != sh->n[0].pid || getpgid(0) != sh->n[0].pgid || getsid(0) != sh->n[0].sid) {
		fail("root: pid/pgid/sid %d/%d/%d, expected %d/%d/%d", getpid(), getpgid(0), getsid(0),
		     sh->n[0].pid, sh->n[0].pgid, sh->n[0].sid);
		failed = 1;
	}
	futex_set_and_wake(&sh->go, 1);
	if (wait_ge(&sh->done, live - 1, 20)) {
		fail("only %u of %d processes reported", futex_get(&sh->done), live - 1);
		failed = 1;
	}
	for (i = 1; i < NR_NODES; i++) {
		struct node *n = &sh->n[i];

		if (nodes_spec[i].exits)
			continue;
		if (n->verdict != 1) {
			fail("node %d (pid %d): verdict %d: %s", i, n->pid, n->verdict, n->why);
			failed = 1;
		}
		if (n->ppid != sh->n[0].pid)
			continue;
		if (waitpid(n->pid, &status, 0) != n->pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fail("node %d (pid %d) exit status %#x", i, n->pid, status);
			failed = 1;
		}
	}
	if (failed) {
		kill_all();
		return 1;
	}
	if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD) {
		fail("an unexpected child is left");
		kill_all();
		return 1;
	}

	pass();
	return 0;
}
