#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <fcntl.h>

#include "zdtmtst.h"
#include "lock.h"


const char *test_doc = "Private anonymous memory written before fork() and still shared copy-on-write by a parent "
		       "and a child: after C/R both read the right data, and writes after C/R stay private to each";
const char *test_author = "Stasis developers";

#define NR_PAGES 64
#define NR_KIDS 1

enum { OP_CHECK = 1, OP_FILL, OP_EXIT };

struct ctl {
	futex_t req, ack;
	int op, page, seed;
	long res;
};

static struct ctl *ctls;	/* one per child, itself shared memory */
static uint8_t *area;		/* the area under test: private, copy-on-write after fork */

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

/* Pages of the area that are mapped by more than one process (pagemap bit 56 clear) */
static int count_shared(void)
{
	uint64_t e;
	int fd, i, n = 0;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return -1;
	for (i = 0; i < NR_PAGES; i++) {
		off_t off = ((unsigned long)area / PAGE_SIZE + i) * sizeof(e);

		if (pread(fd, &e, sizeof(e), off) != sizeof(e)) {
			n = -1;
			break;
		}
		if ((e & (1ULL << 63)) && !(e & (1ULL << 56)))
			n++;
	}
	close(fd);
	return n;
}

/* Expected seeds: parent and child views */
static int pseed[NR_PAGES], cseed[NR_PAGES];

static int check_all(const char *when)
{
	long r;
	int i;

	for (i = 0; i < NR_PAGES; i++) {
		if ((r = check(i, pseed[i]))) {
			fail("%s: the parent sees wrong data in page %d (byte %ld, expected seed %d)", when, i, r - 1,
			     pseed[i]);
			return 1;
		}
		if ((r = call(0, OP_CHECK, i, cseed[i]))) {
			fail("%s: the child sees wrong data in page %d (%ld, expected seed %d)", when, i, r, cseed[i]);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	int i, status;

	test_init(argc, argv);

	ctls = mmap(NULL, sizeof(struct ctl) * NR_KIDS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	area = mmap(NULL, NR_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ctls == MAP_FAILED || area == MAP_FAILED) {
		pr_perror("mmap");
		return 1;
	}
	for (i = 0; i < NR_PAGES; i++) {
		fill(i, 1 + i);
		pseed[i] = cseed[i] = 1 + i;
	}
	kids[0] = fork();
	if (kids[0] < 0) {
		pr_perror("fork");
		return 1;
	}
	if (kids[0] == 0)
		child(&ctls[0]);
	/* Pages 0-3 diverge in the child, 4-7 in the parent, the rest stays shared copy-on-write */
	for (i = 0; i < 4; i++) {
		if (call(0, OP_FILL, i, 100 + i)) {
			pr_err("the child does not answer\n");
			goto err;
		}
		cseed[i] = 100 + i;
		fill(4 + i, 200 + i);
		pseed[4 + i] = 200 + i;
	}
	if (check_all("before C/R"))
		goto err;
	test_msg("pages shared with the child before C/R: %d of %d\n", count_shared(), NR_PAGES);

	test_daemon();
	test_waitsig();

	test_msg("pages shared with the child after C/R: %d of %d (a goal, not checked)\n", count_shared(), NR_PAGES);
	if (check_all("after C/R"))
		goto err;
	/* Writes after C/R stay private: the child writes 8-15, the parent 16-23 */
	for (i = 8; i < 16; i++) {
		if (call(0, OP_FILL, i, 300 + i)) {
			fail("the child does not answer");
			goto err;
		}
		cseed[i] = 300 + i;
		fill(i + 8, 400 + i);
		pseed[i + 8] = 400 + i;
	}
	if (check_all("after writes following C/R"))
		goto err;

	call(0, OP_EXIT, 0, 0);
	if (waitpid(kids[0], &status, 0) != kids[0] || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("child exit status %#x", status);
		return 1;
	}
	pass();
	return 0;
err:
	kill(kids[0], SIGKILL);
	waitpid(kids[0], NULL, 0);
	return 1;
}
