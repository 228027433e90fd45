#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "uring_common.h"

const char *test_doc = "One idle io_uring shared by a parent and its child (the fd and the ring mappings inherited "
		       "across fork): after C/R both use it and see each other's submissions in the counters";
const char *test_author = "Stasis developers";

static struct uring r;

int main(int argc, char **argv)
{
	int go[2], done[2], status, i;
	unsigned count;
	pid_t kid;
	char c;

	test_init(argc, argv);

	if (uring_setup(&r, 4, 0) || pipe(go) || pipe(done)) {
		pr_perror("io_uring setup or pipe");
		return 1;
	}
	for (i = 0; i < 7; i++)
		if (uring_one(&r, IORING_OP_NOP, -1, 0, NULL, 0, 0, 0, 0x40 + i)) {
			pr_err("NOP %d\n", i);
			return 1;
		}
	count = *r.sq_tail;
	kid = fork();
	if (kid < 0) {
		pr_perror("fork");
		return 1;
	}
	if (kid == 0) {
		/* after C/R: one NOP in the shared ring, then tell the parent */
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		if (!uring_counters_are(&r, count) || uring_one(&r, IORING_OP_NOP, -1, 0, NULL, 0, 0, 0, 0x99))
			_exit(3);
		if (write(done[1], "k", 1) != 1)
			_exit(4);
		_exit(0);
	}

	test_daemon();
	test_waitsig();

	if (!uring_counters_are(&r, count)) {
		fail("counters after C/R: sq %u/%u cq %u/%u, expected %u", *r.sq_head, *r.sq_tail, *r.cq_head,
		     *r.cq_tail, count);
		goto kill;
	}
	if (write(go[1], "g", 1) != 1 || read(done[0], &c, 1) != 1) {
		fail("the child did not answer");
		goto kill;
	}
	if (waitpid(kid, &status, 0) != kid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("the child failed with the shared ring: status %#x", status);
		return 1;
	}
	/* the child's NOP is in the parent's view of the ring: the same instance and memory */
	if (!uring_counters_are(&r, count + 1) || uring_one(&r, IORING_OP_NOP, -1, 0, NULL, 0, 0, 0, 0x77) ||
	    !uring_counters_are(&r, count + 2)) {
		fail("the parent does not see the child's submission: sq %u/%u cq %u/%u", *r.sq_head, *r.sq_tail,
		     *r.cq_head, *r.cq_tail);
		return 1;
	}
	pass();
	return 0;
kill:
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	return 1;
}
