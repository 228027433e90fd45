#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"

const char *test_doc = "A ring of processes passing several tokens with counters through pipes continuously while "
		       "being dumped: every process checks that each token arrives in order with its counter "
		       "advanced by exactly one lap, so no data is lost or duplicated";
const char *test_author = "Stasis developers";

#define NR_PROCS 5
#define NR_TOKENS 3
#define STOP_ID 0xffffffffu

struct token {
	uint32_t id;
	uint32_t check;	/* id ^ counter ^ a constant: catches torn or mixed data */
	uint64_t counter;
};

static int ring[NR_PROCS][2]; /* process i reads ring[i][0] and writes ring[(i + 1) % N][1] */

static uint32_t seal(const struct token *t)
{
	return t->id ^ (uint32_t)t->counter ^ (uint32_t)(t->counter >> 32) ^ 0x5eed1234;
}

/*
 * Check a token arriving at process @me: tokens come in the order 0, 1, ..., NR_TOKENS - 1, 0, ...
 * and token k's counter grows by NR_PROCS per lap (one per hop).
 */
static int check_token(int me, const struct token *t, uint64_t *last, uint32_t *next_id, char *why, size_t len)
{
	if (t->check != seal(t)) {
		snprintf(why, len, "process %d: torn token (id %u counter %llu check %#x)", me, t->id,
			 (unsigned long long)t->counter, t->check);
		return 1;
	}
	if (t->id != *next_id) {
		snprintf(why, len, "process %d: token %u arrived, expected token %u", me, t->id, *next_id);
		return 1;
	}
	if (last[t->id] != UINT64_MAX && t->counter != last[t->id] + NR_PROCS) {
		snprintf(why, len, "process %d: token %u counter %llu after %llu (lost or duplicated)", me, t->id,
			 (unsigned long long)t->counter, (unsigned long long)last[t->id]);
		return 1;
	}
	if (last[t->id] == UINT64_MAX && t->counter != (uint64_t)((me + NR_PROCS - 1) % NR_PROCS)) {
		/* every token leaves process 0 with counter 0 and gains one per hop */
		snprintf(why, len, "process %d: first counter of token %u is %llu", me, t->id,
			 (unsigned long long)t->counter);
		return 1;
	}
	last[t->id] = t->counter;
	*next_id = (t->id + 1) % NR_TOKENS;
	return 0;
}

static int rd(int fd, struct token *t)
{
	ssize_t n;

	do
		n = read(fd, t, sizeof(*t));
	while (n < 0 && errno == EINTR);
	return n == sizeof(*t) ? 0 : -1;
}

static int wr(int fd, struct token *t)
{
	ssize_t n;

	do
		n = write(fd, t, sizeof(*t));
	while (n < 0 && errno == EINTR);
	return n == sizeof(*t) ? 0 : -1;
}

static void member(int me)
{
	uint64_t last[NR_TOKENS];
	uint32_t next_id = 0;
	struct token t;
	char why[200];
	int i;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	for (i = 0; i < NR_PROCS; i++) {
		if (i != me)
			close(ring[i][0]);
		if (i != (me + 1) % NR_PROCS)
			close(ring[i][1]);
	}
	for (i = 0; i < NR_TOKENS; i++)
		last[i] = UINT64_MAX;
	while (1) {
		if (rd(ring[me][0], &t)) {
			test_msg("process %d: short read from the ring\n", me);
			_exit(2);
		}
		if (t.id == STOP_ID) {
			wr(ring[(me + 1) % NR_PROCS][1], &t);
			_exit(0);
		}
		if (check_token(me, &t, last, &next_id, why, sizeof(why))) {
			test_msg("%s\n", why);
			_exit(1);
		}
		t.counter++;
		t.check = seal(&t);
		if (wr(ring[(me + 1) % NR_PROCS][1], &t)) {
			test_msg("process %d: short write to the ring\n", me);
			_exit(3);
		}
	}
}

int main(int argc, char **argv)
{
	uint64_t last[NR_TOKENS], laps = 0;
	uint32_t next_id = 0;
	pid_t kids[NR_PROCS] = {};
	struct token t;
	char why[200];
	int i, status, failed = 0, in_flight = NR_TOKENS;

	test_init(argc, argv);

	for (i = 0; i < NR_PROCS; i++)
		if (pipe(ring[i])) {
			pr_perror("pipe");
			return 1;
		}
	for (i = 1; i < NR_PROCS; i++) {
		kids[i] = fork();
		if (kids[i] < 0) {
			pr_perror("fork");
			goto err;
		}
		if (kids[i] == 0)
			member(i);
	}
	for (i = 0; i < NR_PROCS; i++) {
		if (i != 0)
			close(ring[i][0]);
		if (i != 1)
			close(ring[i][1]);
	}
	for (i = 0; i < NR_TOKENS; i++)
		last[i] = UINT64_MAX;
	/* Process 0 injects the tokens */
	for (i = 0; i < NR_TOKENS; i++) {
		t.id = i;
		t.counter = 0;
		t.check = seal(&t);
		if (wr(ring[1][1], &t)) {
			pr_perror("inject");
			goto err;
		}
	}

	test_daemon();

	while (in_flight) {
		if (rd(ring[0][0], &t)) {
			fail("process 0: short read from the ring");
			goto err;
		}
		if (check_token(0, &t, last, &next_id, why, sizeof(why))) {
			fail("%s", why);
			goto err;
		}
		if (t.id == 0)
			laps++;
		if (!test_go()) {
			in_flight--; /* keep the token: the ring drains */
			continue;
		}
		t.counter++;
		t.check = seal(&t);
		if (wr(ring[1][1], &t)) {
			fail("process 0: short write to the ring");
			goto err;
		}
	}
	/* All tokens are back: nothing may be left in the ring; send STOP around */
	t.id = STOP_ID;
	t.counter = 0;
	if (wr(ring[1][1], &t) || rd(ring[0][0], &t) || t.id != STOP_ID) {
		fail("the STOP token did not come back (data left in the ring?) id %#x", t.id);
		goto err;
	}
	for (i = 1; i < NR_PROCS; i++) {
		if (waitpid(kids[i], &status, 0) != kids[i] || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fail("ring process %d (pid %d): status %#x", i, kids[i], status);
			failed = 1;
		}
		kids[i] = 0;
	}
	if (failed)
		return 1;
	test_msg("%llu laps\n", (unsigned long long)laps);
	if (laps < 2) {
		fail("the ring did not run");
		return 1;
	}
	pass();
	return 0;
err:
	for (i = 1; i < NR_PROCS; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
	return 1;
}
