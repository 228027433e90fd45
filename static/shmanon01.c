#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"
#include "lock.h"

const char *test_doc = "MAP_SHARED|MAP_ANONYMOUS memory shared by a parent and two children: data written before "
		       "C/R by each is seen by all after it, and a write by one after C/R is seen by the others";
const char *test_author = "Stasis developers";

#define NR_PAGES 8
#define NR_KIDS 2

enum { OP_CHECK = 1, OP_FILL, OP_EXIT };

struct ctl {
	futex_t req, ack;
	int op, page, seed;
	long res;
};

static struct ctl *ctls;	/* one per child, itself shared memory */
static uint8_t *area;		/* the area under test */

static void fill(int page, int seed)
{
	int j;

	for (j = 0; j < PAGE_SIZE; j++)
		area[page * PAGE_SIZE + j] = (uint8_t)(seed * 131 + j * 7 + (j >> 8));
}

static int check(int page, int seed)
{
	int j;

	for (j = 0; j < PAGE_SIZE; j++)
		if (area[page * PAGE_SIZE + j] != (uint8_t)(seed * 131 + j * 7 + (j >> 8)))
			return j + 1; /* the first wrong byte, 1-based */
	return 0;
}

static void child(struct ctl *c)
{
	uint32_t seen = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	while (1) {
		futex_wait_while_eq(&c->req, seen);
		seen = futex_get(&c->req);
		if (c->op == OP_CHECK)
			c->res = check(c->page, c->seed);
		else if (c->op == OP_FILL) {
			fill(c->page, c->seed);
			c->res = 0;
		}
		futex_set_and_wake(&c->ack, seen);
		if (c->op == OP_EXIT)
			_exit(0);
	}
}

static long call(int k, int op, int page, int seed)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	struct ctl *c = &ctls[k];
	uint32_t n = futex_get(&c->req) + 1;
	int i;

	c->op = op;
	c->page = page;
	c->seed = seed;
	c->res = -1000;
	futex_set_and_wake(&c->req, n);
	for (i = 0; i < 100 && futex_get(&c->ack) != n; i++)
		sys_futex(&c->ack.raw, FUTEX_WAIT, futex_get(&c->ack), &ts, NULL, 0);
	return futex_get(&c->ack) == n ? c->res : -2000;
}

static pid_t kids[NR_KIDS];

/* Everybody (parent and the children) sees @seed in @page */
static int all_see(int page, int seed, const char *what)
{
	long r;
	int k;

	if ((r = check(page, seed))) {
		fail("%s: the parent sees wrong data in page %d (byte %ld)", what, page, r - 1);
		return 1;
	}
	for (k = 0; k < NR_KIDS; k++) {
		if ((r = call(k, OP_CHECK, page, seed))) {
			fail("%s: child %d sees wrong data in page %d (%ld)", what, kids[k], page, r);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	int k, status, failed = 0;

	test_init(argc, argv);

	ctls = mmap(NULL, sizeof(struct ctl) * NR_KIDS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	area = mmap(NULL, NR_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctls == MAP_FAILED || area == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	for (k = 0; k < NR_KIDS; k++) {
		kids[k] = fork();
		if (kids[k] < 0) {
			pr_perror("fork");
			return 1;
		}
		if (kids[k] == 0)
			child(&ctls[k]);
	}
	/* Before C/R: page 0 by the parent, page 1 + k by child k; the last page is never touched */
	fill(0, 1);
	for (k = 0; k < NR_KIDS; k++)
		if (call(k, OP_FILL, 1 + k, 10 + k)) {
			pr_err("child %d does not answer\n", kids[k]);
			goto err;
		}
	if (all_see(0, 1, "before C/R") || all_see(1, 10, "before C/R") || all_see(2, 11, "before C/R"))
		goto err;

	test_daemon();
	test_waitsig();

	if (all_see(0, 1, "after C/R") || all_see(1, 10, "after C/R") || all_see(2, 11, "after C/R"))
		goto err;
	/* Writes after C/R by each of them */
	for (k = 0; k < NR_KIDS; k++) {
		if (call(k, OP_FILL, 3 + k, 20 + k)) {
			fail("child %d does not answer", kids[k]);
			goto err;
		}
		if (all_see(3 + k, 20 + k, "after a child's write"))
			goto err;
	}
	fill(0, 30);
	fill(NR_PAGES - 1, 31);
	if (all_see(0, 30, "after the parent's write") || all_see(NR_PAGES - 1, 31, "after the parent's write"))
		goto err;

	for (k = 0; k < NR_KIDS; k++) {
		call(k, OP_EXIT, 0, 0);
		if (waitpid(kids[k], &status, 0) != kids[k] || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fail("child %d exit status %#x", kids[k], status);
			failed = 1;
		}
	}
	if (failed)
		return 1;
	pass();
	return 0;
err:
	for (k = 0; k < NR_KIDS; k++)
		kill(kids[k], SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
	return 1;
}
