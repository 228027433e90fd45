#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "zdtmtst.h"
#include "lock.h"

const char *test_doc = "A process tree of depth 3 and width 3: every process keeps its pid, parent, process group "
		       "and session across C/R; the root passes only if every process reports success";
const char *test_author = "Stasis developers";

#define WIDTH 3
#define DEPTH 3
#define MAX_NODES 64 /* 1 + 3 + 9 + 27 = 40 */

enum { V_NONE, V_PASS, V_FAIL };

struct node {
	int parent;	/* index of the parent node, -1 for the root */
	int level;
	pid_t pid, ppid, pgid, sid;
	int verdict;
	char why[96];
};

struct shared {
	futex_t ready;	/* number of descendants set up */
	futex_t go;	/* 1: check now; 2: abort */
	futex_t done;	/* number of descendants that reported */
	int nr;
	struct node nodes[MAX_NODES];
};

static struct shared *sh;

/* Wait until *f >= v, at most @secs seconds; 0 on success */
static int wait_ge(futex_t *f, uint32_t v, int secs)
{
	struct timespec end, now, ts;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += secs;
	while (1) {
		uint32_t c = futex_get(f);

		if (c >= v)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			return -1;
		ts.tv_sec = 0;
		ts.tv_nsec = 100 * 1000 * 1000;
		sys_futex(&f->raw, FUTEX_WAIT, c, &ts, NULL, 0);
	}
}

static void record(struct node *n)
{
	n->pid = getpid();
	n->ppid = getppid();
	n->pgid = getpgid(0);
	n->sid = getsid(0);
}

static int check(struct node *n, char *why, size_t len)
{
	pid_t pid = getpid(), ppid = getppid(), pgid = getpgid(0), sid = getsid(0);

	if (pid != n->pid || ppid != n->ppid || pgid != n->pgid || sid != n->sid) {
		snprintf(why, len, "pid/ppid/pgid/sid %d/%d/%d/%d, expected %d/%d/%d/%d", pid, ppid, pgid, sid,
			 n->pid, n->ppid, n->pgid, n->sid);
		return 1;
	}
	return 0;
}

static int make_children(int me);

/* Body of a descendant: set up its subtree, wait for "go", check itself and its children, exit */
static void descendant(int me)
{
	struct node *n = &sh->nodes[me];
	int i, status, bad = 0;
	pid_t pid;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != sh->nodes[n->parent].pid) /* the parent died before prctl */
		_exit(10);
	/* Every second node of level 1 leads its own process group (its subtree inherits it) */
	if (n->level == 1 && (me % 2) == 1 && setpgid(0, 0))
		_exit(11);
	record(n);
	if (make_children(me))
		_exit(12);
	futex_inc_and_wake(&sh->ready);

	if (wait_ge(&sh->go, 1, 3600) || futex_get(&sh->go) != 1)
		_exit(13);

	bad = check(n, n->why, sizeof(n->why));

	/* Reap the children: each must exit 0 */
	for (i = 0; i < sh->nr; i++) {
		if (sh->nodes[i].parent != me)
			continue;
		pid = waitpid(sh->nodes[i].pid, &status, 0);
		if (pid != sh->nodes[i].pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
			if (!bad)
				snprintf(n->why, sizeof(n->why), "child node %d (pid %d): waitpid %d status %#x",
					 i, sh->nodes[i].pid, pid, status);
			bad = 1;
		}
	}
	n->verdict = bad ? V_FAIL : V_PASS;
	futex_inc_and_wake(&sh->done);
	_exit(bad ? 1 : 0);
}

static int make_children(int me)
{
	int i, level = sh->nodes[me].level;
	pid_t pid;

	if (level == DEPTH)
		return 0;
	for (i = 0; i < WIDTH; i++) {
		int idx = __atomic_fetch_add(&sh->nr, 1, __ATOMIC_SEQ_CST);

		if (idx >= MAX_NODES)
			return -1;
		sh->nodes[idx].parent = me;
		sh->nodes[idx].level = level + 1;
		pid = fork();
		if (pid < 0)
			return -1;
		if (pid == 0)
			descendant(idx);
		sh->nodes[idx].pid = pid; /* also written by the child itself; same value */
	}
	return 0;
}

static void kill_all(void)
{
	int i;

	for (i = 1; i < sh->nr; i++)
		if (sh->nodes[i].pid > 0)
			kill(sh->nodes[i].pid, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
}

int main(int argc, char **argv)
{
	int i, expect, status, failed = 0;
	char why[96];

	test_init(argc, argv);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	sh->nr = 1;
	sh->nodes[0].parent = -1;
	sh->nodes[0].level = 0;
	record(&sh->nodes[0]);

	if (make_children(0)) {
		pr_perror("can't build the tree");
		kill_all();
		return 1;
	}
	/* The number of nodes is fixed: 3 + 9 + 27 */
	expect = WIDTH + WIDTH * WIDTH + WIDTH * WIDTH * WIDTH;
	if (wait_ge(&sh->ready, expect, 20)) {
		pr_err("only %u of %d descendants got ready\n", futex_get(&sh->ready), expect);
		kill_all();
		return 1;
	}
	if (sh->nr != expect + 1) {
		pr_err("%d nodes, expected %d\n", sh->nr, expect + 1);
		kill_all();
		return 1;
	}

	test_daemon();
	test_waitsig();

	/* The root's parent (the launcher) exits in test_daemon(): its ppid is not checked */
	sh->nodes[0].ppid = getppid();
	if (check(&sh->nodes[0], why, sizeof(why))) {
		fail("root: %s", why);
		failed = 1;
	}

	futex_set_and_wake(&sh->go, 1);
	if (wait_ge(&sh->done, expect, 20)) {
		fail("only %u of %d descendants reported", futex_get(&sh->done), expect);
		failed = 1;
	}
	for (i = 1; i < sh->nr; i++) {
		struct node *n = &sh->nodes[i];

		if (n->verdict != V_PASS) {
			fail("node %d (level %d, pid %d): verdict %d: %s", i, n->level, n->pid, n->verdict, n->why);
			failed = 1;
		}
		if (n->parent != 0)
			continue;
		if (waitpid(n->pid, &status, 0) != n->pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fail("level-1 node %d (pid %d) exit status %#x", i, n->pid, status);
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
